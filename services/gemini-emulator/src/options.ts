import type { TokenRule } from "@tessera/imaging";
import { UnknownModelError, tokenRuleForModel } from "@tessera/imaging";
import type { FaultRates, LatencyOption } from "./faults.ts";
import type { Clock } from "./files/clock.ts";
import type { ResourceOptions } from "./files/resources.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import type { SightOptions } from "./sight/index.ts";
import type { RouteName } from "./stats.ts";
import type { ImageTokenRuleName } from "./usage.ts";
import { IMAGE_TOKEN_RULES, isImageTokenRuleName, namedTokenRule } from "./usage.ts";

/** ResourceOptions: the Files API (`files`), batch timing (`batches`) and URL fetching for fileData. */
export interface EmulatorOptions extends ResourceOptions {
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
  /** Time for rate-limit windows and anything else that ages; `POST /_emulator/clock` moves it on. */
  clock?: Clock;
  /** RPM, TPM and RPD per API key and model, over sliding windows; unlimited when absent. */
  rateLimits?: RateLimitOptions;
  /** A named image token rule for every model, or per model; each model's documented rule otherwise. */
  imageTokenRule?: ImageTokenRuleName | Readonly<Record<string, ImageTokenRuleName>>;
  /** Context window: prompts over it get the API's 400. */
  maxInputTokens?: number;
  maxInputTokensByModel?: Readonly<Record<string, number>>;
  /** Largest maxOutputTokens a request may ask for; more gets a 400. */
  maxOutputTokens?: number;
  maxOutputTokensByModel?: Readonly<Record<string, number>>;
  /** JSON-lines request log: `true` writes to stderr, a function receives each line. */
  log?: boolean | ((line: string) => void);
  /** How sight answers Tessera's tasks: segmentation masks at the box's size ("box") or N x N. */
  sight?: Pick<SightOptions, "maskSize">;
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
  /** Faults injected into this request, by name ("503", "reset", "fence", ...). */
  faults?: string[];
  /** The limits this request ran into ("rpm", "tpm", "rpd") when it got a rate-limit 429. */
  rateLimited?: string[];
  /**
   * generateContent only: the request's texts (system instruction first, then the user turn's
   * text parts), so a test can see what was asked. Never written to the request log.
   */
  texts?: string[];
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
  // Published context windows: 1,048,576 in for every served family but 1.5 Pro's two million.
  maxInputTokens: 1_048_576,
  maxInputTokensByModel: { "gemini-1.5-pro": 2_097_152 } as Readonly<Record<string, number>>,
  maxOutputTokens: 65_536,
  maxOutputTokensByModel: {
    "gemini-2.0-flash": 8192,
    "gemini-1.5-flash": 8192,
    "gemini-1.5-pro": 8192,
  } as Readonly<Record<string, number>>,
} as const;

export interface ServedModel {
  rule: TokenRule;
  maxImages: number;
  maxInputTokens: number;
  maxOutputTokens: number;
}

/** Resolves every served model up front, so a model without a token rule fails at start, not per request. */
export function resolveModels(options: EmulatorOptions): Map<string, ServedModel> {
  const served = new Map<string, ServedModel>();
  const byModel = { ...EMULATOR_DEFAULTS.maxImagesPerRequestByModel, ...options.maxImagesPerRequestByModel };
  const fallbackMax = options.maxImagesPerRequest ?? EMULATOR_DEFAULTS.maxImagesPerRequest;
  const modelIds = options.models ?? DEFAULT_MODELS;
  for (const [setting, perModel] of [
    ["imageTokenRule", typeof options.imageTokenRule === "object" ? options.imageTokenRule : undefined],
    ["maxInputTokensByModel", options.maxInputTokensByModel],
    ["maxOutputTokensByModel", options.maxOutputTokensByModel],
  ] as const) {
    // A typo in a model id would otherwise leave that model silently on its defaults.
    const unknown = Object.keys(perModel ?? {}).filter((model) => !modelIds.includes(model));
    if (unknown.length > 0) throw new RangeError(`${setting} names models not served: ${unknown.join(", ")}`);
  }
  for (const model of modelIds) {
    const rule = options.tokenRules?.[model] ?? selectedRule(options.imageTokenRule, model);
    const maxImages = byModel[model] ?? fallbackMax;
    if (!Number.isInteger(maxImages) || maxImages < 1) {
      throw new RangeError(`maxImagesPerRequest for ${model} must be an integer >= 1, got ${maxImages}`);
    }
    const maxInputTokens = positiveInteger(
      "maxInputTokens",
      model,
      // An explicit global setting beats the per-model defaults; only explicit per-model ones beat it.
      options.maxInputTokensByModel?.[model] ??
        options.maxInputTokens ??
        EMULATOR_DEFAULTS.maxInputTokensByModel[model] ??
        EMULATOR_DEFAULTS.maxInputTokens,
    );
    const maxOutputTokens = positiveInteger(
      "maxOutputTokens",
      model,
      // Same precedence as the input limit.
      options.maxOutputTokensByModel?.[model] ??
        options.maxOutputTokens ??
        EMULATOR_DEFAULTS.maxOutputTokensByModel[model] ??
        EMULATOR_DEFAULTS.maxOutputTokens,
    );
    served.set(model, { rule, maxImages, maxInputTokens, maxOutputTokens });
  }
  return served;
}

function selectedRule(setting: EmulatorOptions["imageTokenRule"], model: string): TokenRule {
  // Widened: JavaScript callers and JSON can pass any string.
  const name: string | undefined = typeof setting === "string" ? setting : setting?.[model];
  if (name === undefined) return ruleOrExplain(model);
  if (!isImageTokenRuleName(name)) {
    throw new RangeError(
      `imageTokenRule for ${model} must be one of ${IMAGE_TOKEN_RULES.join(", ")}, got ${name}`,
    );
  }
  return namedTokenRule(name, familyRule(model));
}

function familyRule(model: string): TokenRule | undefined {
  try {
    return tokenRuleForModel(model);
  } catch (error) {
    if (error instanceof UnknownModelError) return undefined;
    throw error;
  }
}

function positiveInteger(setting: string, model: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${setting} for ${model} must be an integer >= 1, got ${value}`);
  }
  return value;
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
