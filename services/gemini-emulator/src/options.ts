import type { TokenRule } from "@tessera/imaging";
import { UnknownModelError, tokenRuleForModel } from "@tessera/imaging";
import type { FaultRates, LatencyOption } from "./faults.ts";
import type { RouteName } from "./stats.ts";

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Loopback by default: the emulator accepts any key it is configured for and has no TLS. */
  host?: string;
  /** When set, only these keys are accepted; any other key gets the API's "API key not valid". */
  apiKeys?: readonly string[];
  /** Model ids served; others get the API's 404. */
  models?: readonly string[];
  /** Image token rules for served models that @tessera/imaging does not know. */
  tokenRules?: Readonly<Record<string, TokenRule>>;
  maxImagesPerRequest?: number;
  /** Per-model overrides of maxImagesPerRequest. */
  maxImagesPerRequestByModel?: Readonly<Record<string, number>>;
  /** Limit on the raw HTTP request body, base64 images included. */
  maxRequestBytes?: number;
  /** Added to every request that reaches a model, before it answers or fails. */
  latencyMs?: LatencyOption;
  faults?: FaultRates;
  /** Seeds fault and latency draws; same seed and request order give the same run. */
  seed?: number;
  /** Called once per request after the answer is sent. Must not throw; the API key is never included. */
  onRequest?: (event: EmulatorRequestEvent) => void;
}

export interface EmulatorRequestEvent {
  method: string;
  /** Path and query, with a `key` query parameter redacted. */
  path: string;
  route: RouteName;
  apiVersion: string | undefined;
  model: string | undefined;
  status: number;
  durationMs: number;
  /** Request headers, with x-goog-api-key and authorization redacted. */
  headers: Record<string, string>;
  /** The error message when status is not 200. */
  error: string | undefined;
}

export const DEFAULT_MODELS: readonly string[] = [
  "gemini-2.0-flash",
  "gemini-2.5-flash",
  "gemini-2.5-flash-lite",
  "gemini-2.5-pro",
  "gemini-1.5-flash",
  "gemini-1.5-pro",
  "gemini-3-pro-preview",
];

export const EMULATOR_DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  // The guide's figure for 2.5 / 2.0 / 1.5; Gemini 3 Pro preview documents 900.
  maxImagesPerRequest: 3600,
  maxImagesPerRequestByModel: { "gemini-3-pro-preview": 900 } as Readonly<Record<string, number>>,
  // The guide's inline limit; the API states it in bytes of 1024 * 1024.
  maxRequestBytes: 20 * 1024 * 1024,
  retryDelaySeconds: 2,
  seed: 1,
} as const;

export interface ServedModel {
  rule: TokenRule;
  maxImages: number;
}

/** Resolves every served model up front, so a model without a token rule fails at start, not per request. */
export function resolveModels(options: EmulatorOptions): Map<string, ServedModel> {
  const served = new Map<string, ServedModel>();
  const byModel = { ...EMULATOR_DEFAULTS.maxImagesPerRequestByModel, ...options.maxImagesPerRequestByModel };
  const fallbackMax = options.maxImagesPerRequest ?? EMULATOR_DEFAULTS.maxImagesPerRequest;
  for (const model of options.models ?? DEFAULT_MODELS) {
    const rule = options.tokenRules?.[model] ?? ruleOrExplain(model);
    const maxImages = byModel[model] ?? fallbackMax;
    if (!Number.isInteger(maxImages) || maxImages < 1) {
      throw new RangeError(`maxImagesPerRequest for ${model} must be an integer >= 1, got ${maxImages}`);
    }
    served.set(model, { rule, maxImages });
  }
  return served;
}

function ruleOrExplain(model: string): TokenRule {
  try {
    return tokenRuleForModel(model);
  } catch (error) {
    if (!(error instanceof UnknownModelError)) throw error;
    throw new Error(`emulator model "${model}" has no image token rule: give one in options.tokenRules`, {
      cause: error,
    });
  }
}
