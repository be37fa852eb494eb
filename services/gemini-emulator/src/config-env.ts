// Every knob of the emulator as a command-line flag and an environment variable, in one table, so
// `tessera emulator --help`, the validation and docs/emulator.md cannot drift apart. A flag beats
// its variable; a bad value is reported under the name the user actually typed.
import type { BatchOptions } from "./batches/store.ts";
import { BATCH_DEFAULTS } from "./batches/store.ts";
import type { FaultName, FaultRates, LatencyOption } from "./faults.ts";
import { FAULT_NAMES, FaultInjector, isFaultName } from "./faults.ts";
import { URL_FETCH_DEFAULTS } from "./fetch-url.ts";
import type { FilesOptions } from "./files/store.ts";
import { FILES_DEFAULTS } from "./files/store.ts";
import type { EmulatorOptions } from "./options.ts";
import { DEFAULT_MODELS, EMULATOR_DEFAULTS } from "./options.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import type { RateLimits } from "./rate-limit-tiers.ts";
import { LIMIT_KINDS, TIER_NAMES, isTierName } from "./rate-limit-tiers.ts";
import type { MaskSize } from "./sight/index.ts";
import { SIGHT_DEFAULTS } from "./sight/index.ts";
import type { ImageTokenRuleName } from "./usage.ts";
import { IMAGE_TOKEN_RULES, isImageTokenRuleName } from "./usage.ts";

/** The settings a knob fills in before they are assembled into EmulatorOptions. */
export interface EmulatorKnobDraft {
  port?: number;
  host?: string;
  latencyMs?: LatencyOption;
  rates?: Partial<Record<FaultName, number>>;
  burst429?: number;
  truncateTokens?: number;
  retryDelaySeconds?: number;
  seed?: number;
  tier?: RateLimitOptions["tier"];
  all: RateLimits;
  byModel?: Record<string, RateLimits>;
  tokenRule?: ImageTokenRuleName | Record<string, ImageTokenRuleName>;
  maxImages?: number;
  maxRequestBytes?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  models?: string[];
  apiKeys?: string[];
  log?: boolean;
  files: FilesOptions;
  allowUrlFetch?: boolean;
  urlFetchTimeoutMs?: number;
  batches: BatchOptions;
  maskSize?: MaskSize;
}

export interface EmulatorKnob {
  /** Commander's attribute name for the flag (camelCase). */
  key: string;
  /** As shown in --help: "--port <n>"; a flag without a value is a switch. */
  flag: string;
  env: string;
  default: string;
  description: string;
  apply(value: string, draft: EmulatorKnobDraft): void;
}

/** Thrown with a message that starts with the flag or variable at fault. */
export class EmulatorConfigError extends Error {
  readonly knob: string;

  constructor(knob: string, message: string) {
    super(`${knob}: ${message}`);
    this.name = "EmulatorConfigError";
    this.knob = knob;
  }
}

/** A problem with the value alone; the caller adds which knob it came from. */
class ValueError extends Error {}

export const CLI_DEFAULT_PORT = 8787;
/** A square mask map's largest side: each segment item carries one as a base64 PNG. */
const MAX_MASK_SIZE = 4096;

export const EMULATOR_KNOBS: readonly EmulatorKnob[] = [
  {
    key: "port",
    flag: "--port <n>",
    env: "TESSERA_EMULATOR_PORT",
    default: String(CLI_DEFAULT_PORT),
    description: "TCP port; 0 picks a free one",
    apply: (value, draft) => (draft.port = integer(value, 0, 65_535)),
  },
  {
    key: "host",
    flag: "--host <host>",
    env: "TESSERA_EMULATOR_HOST",
    default: EMULATOR_DEFAULTS.host,
    description: "address to listen on; anything but loopback also exposes /_emulator/",
    apply: (value, draft) => (draft.host = nonEmpty(value)),
  },
  {
    key: "latency",
    flag: "--latency <ms>",
    env: "TESSERA_EMULATOR_LATENCY",
    default: "0",
    description: "delay per model call: MS, MIN-MAX (uniform) or p50=MS,p99=MS[,max=MS] (long tail)",
    apply: (value, draft) => (draft.latencyMs = latency(value)),
  },
  {
    key: "faults",
    flag: "--faults <rates>",
    env: "TESSERA_EMULATOR_FAULTS",
    default: "none",
    description: `fault rates 0..1, e.g. 503=0.05,reset=0.01,fence=0.2 (${FAULT_NAMES.join(", ")})`,
    apply: (value, draft) => (draft.rates = faultRates(value)),
  },
  {
    key: "burst429",
    flag: "--burst-429 <n>",
    env: "TESSERA_EMULATOR_BURST_429",
    default: "1",
    description: "a random 429 starts a burst of N 429s",
    apply: (value, draft) => (draft.burst429 = integer(value, 1)),
  },
  {
    key: "truncateTokens",
    flag: "--truncate-tokens <n>",
    env: "TESSERA_EMULATOR_TRUNCATE_TOKENS",
    default: "half the answer",
    description: 'where a "truncate" fault cuts the answer, in tokens',
    apply: (value, draft) => (draft.truncateTokens = integer(value, 1)),
  },
  {
    key: "retryDelay",
    flag: "--retry-delay <seconds>",
    env: "TESSERA_EMULATOR_RETRY_DELAY",
    default: String(EMULATOR_DEFAULTS.retryDelaySeconds),
    description: "RetryInfo delay of injected 429s (rate-limit 429s say what their window implies)",
    apply: (value, draft) => (draft.retryDelaySeconds = decimal(value, 0)),
  },
  {
    key: "seed",
    flag: "--seed <n>",
    env: "TESSERA_EMULATOR_SEED",
    default: String(EMULATOR_DEFAULTS.seed),
    description: "seed of the fault and latency draws",
    apply: (value, draft) => (draft.seed = integer(value, 0, 2 ** 32 - 1)),
  },
  {
    key: "tier",
    flag: "--tier <name>",
    env: "TESSERA_EMULATOR_TIER",
    default: "none (unlimited)",
    description: `rate-limit preset: ${TIER_NAMES.join(", ")}`,
    apply: (value, draft) => {
      if (!isTierName(value))
        throw new ValueError(`expected one of ${TIER_NAMES.join(", ")}, got "${value}"`);
      draft.tier = value;
    },
  },
  ...LIMIT_KINDS.map((kind): EmulatorKnob => ({
    key: kind,
    flag: `--${kind} <n>`,
    env: `TESSERA_EMULATOR_${kind.toUpperCase()}`,
    default: "the tier's, else unlimited",
    description: `${describeLimit(kind)} per API key and model, for every model`,
    apply: (value, draft) => (draft.all[kind] = integer(value, 0)),
  })),
  {
    key: "limits",
    flag: "--limits <list>",
    env: "TESSERA_EMULATOR_LIMITS",
    default: "none",
    description: "per-model limits: MODEL:rpm=N,tpm=N,rpd=N;MODEL:...",
    apply: (value, draft) => (draft.byModel = perModelLimits(value)),
  },
  {
    key: "tokenRule",
    flag: "--token-rule <rule>",
    env: "TESSERA_EMULATOR_TOKEN_RULE",
    default: "each model's documented rule",
    description: `image token rule (${IMAGE_TOKEN_RULES.join(", ")}), or MODEL=RULE,...`,
    apply: (value, draft) => (draft.tokenRule = tokenRule(value)),
  },
  {
    key: "maxImages",
    flag: "--max-images <n>",
    env: "TESSERA_EMULATOR_MAX_IMAGES",
    default: `${EMULATOR_DEFAULTS.maxImagesPerRequest} (900 for gemini-3-pro-preview)`,
    description: "images per request, for every model",
    apply: (value, draft) => (draft.maxImages = integer(value, 1)),
  },
  {
    key: "maxRequestBytes",
    flag: "--max-request-bytes <n>",
    env: "TESSERA_EMULATOR_MAX_REQUEST_BYTES",
    default: String(EMULATOR_DEFAULTS.maxRequestBytes),
    description: "request body limit in bytes (base64 images included)",
    apply: (value, draft) => (draft.maxRequestBytes = integer(value, 1)),
  },
  {
    key: "maxInputTokens",
    flag: "--max-input-tokens <n>",
    env: "TESSERA_EMULATOR_MAX_INPUT_TOKENS",
    default: `${EMULATOR_DEFAULTS.maxInputTokens} (2097152 for gemini-1.5-pro)`,
    description: "context window, for every model",
    apply: (value, draft) => (draft.maxInputTokens = integer(value, 1)),
  },
  {
    key: "maxOutputTokens",
    flag: "--max-output-tokens <n>",
    env: "TESSERA_EMULATOR_MAX_OUTPUT_TOKENS",
    default: `${EMULATOR_DEFAULTS.maxOutputTokens} (8192 for 2.0 Flash and 1.5)`,
    description: "largest maxOutputTokens a request may ask for, for every model",
    apply: (value, draft) => (draft.maxOutputTokens = integer(value, 1)),
  },
  {
    key: "models",
    flag: "--models <list>",
    env: "TESSERA_EMULATOR_MODELS",
    default: DEFAULT_MODELS.join(","),
    description: "model ids served (comma-separated)",
    apply: (value, draft) => (draft.models = list(value)),
  },
  {
    key: "apiKeys",
    flag: "--api-keys <list>",
    env: "TESSERA_EMULATOR_API_KEYS",
    default: "any key",
    description: "only these keys are accepted (comma-separated; prefer the variable: flags show in ps)",
    apply: (value, draft) => (draft.apiKeys = list(value)),
  },
  {
    key: "log",
    flag: "--log",
    env: "TESSERA_EMULATOR_LOG",
    default: "off",
    description: "JSON-lines request log on stderr (API keys never logged)",
    apply: (value, draft) => (draft.log = boolean(value)),
  },
  {
    key: "fileProcessing",
    flag: "--file-processing <ms>",
    env: "TESSERA_EMULATOR_FILE_PROCESSING",
    default: String(FILES_DEFAULTS.processingMs),
    description: "how long an uploaded file stays PROCESSING before it turns ACTIVE or FAILED",
    apply: (value, draft) => (draft.files.processingMs = integer(value, 0)),
  },
  {
    key: "maxFileBytes",
    flag: "--max-file-bytes <n>",
    env: "TESSERA_EMULATOR_MAX_FILE_BYTES",
    default: `${FILES_DEFAULTS.maxFileBytes} (2 GiB)`,
    description: "largest file the Files API accepts, in bytes (also the cap on fetched URLs)",
    apply: (value, draft) => (draft.files.maxFileBytes = integer(value, 1)),
  },
  {
    key: "maxStorageBytes",
    flag: "--max-storage-bytes <n>",
    env: "TESSERA_EMULATOR_MAX_STORAGE_BYTES",
    default: `${FILES_DEFAULTS.maxProjectBytes} (20 GiB)`,
    description: "Files API storage per API key, in bytes; an upload past it gets a 429",
    apply: (value, draft) => (draft.files.maxProjectBytes = integer(value, 0)),
  },
  {
    key: "urlFetch",
    flag: "--url-fetch <on|off>",
    env: "TESSERA_EMULATOR_URL_FETCH",
    default: "on",
    description: "fetch http(s) URLs given as fileData.fileUri; off answers them with a 400",
    apply: (value, draft) => (draft.allowUrlFetch = boolean(nonEmpty(value))),
  },
  {
    key: "urlFetchTimeout",
    flag: "--url-fetch-timeout <ms>",
    env: "TESSERA_EMULATOR_URL_FETCH_TIMEOUT",
    default: String(URL_FETCH_DEFAULTS.timeoutMs),
    description: "time allowed for fetching one fileData URL, the whole answer",
    apply: (value, draft) => (draft.urlFetchTimeoutMs = integer(value, 1)),
  },
  {
    key: "batchPending",
    flag: "--batch-pending <ms>",
    env: "TESSERA_EMULATOR_BATCH_PENDING",
    default: String(BATCH_DEFAULTS.pendingMs),
    description: "how long a new batch stays BATCH_STATE_PENDING",
    apply: (value, draft) => (draft.batches.pendingMs = integer(value, 0)),
  },
  {
    key: "batchRunning",
    flag: "--batch-running <ms>",
    env: "TESSERA_EMULATOR_BATCH_RUNNING",
    default: String(BATCH_DEFAULTS.runningMs),
    description: "how long a batch then stays BATCH_STATE_RUNNING before its results are ready",
    apply: (value, draft) => (draft.batches.runningMs = integer(value, 0)),
  },
  {
    key: "maskSize",
    flag: "--mask-size <box|n>",
    env: "TESSERA_EMULATOR_MASK_SIZE",
    default: SIGHT_DEFAULTS.maskSize,
    description: `segmentation masks at the box's size ("box") or N x N (real models: 256; at most ${MAX_MASK_SIZE})`,
    apply: (value, draft) => (draft.maskSize = maskSize(value)),
  },
];

export interface EmulatorCliConfig {
  options: EmulatorOptions;
  port: number;
  host: string;
}

/**
 * Builds the emulator's options from parsed flags (commander's attribute names; a switch is
 * `true`) and the environment. Throws EmulatorConfigError naming the first bad knob.
 */
export function emulatorConfigFrom(
  flags: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): EmulatorCliConfig {
  const draft: EmulatorKnobDraft = { all: {}, files: {}, batches: {} };
  const sourceOf = new Map<string, string>();
  for (const knob of EMULATOR_KNOBS) {
    const flagName = knob.flag.split(" ")[0]!;
    const fromFlag = flags[knob.key];
    // Commander gives strings for flags with a value and `true` for switches.
    const [name, value] =
      typeof fromFlag === "string" || fromFlag === true
        ? [flagName, fromFlag === true ? "true" : fromFlag]
        : [knob.env, env[knob.env]];
    if (value === undefined) continue;
    sourceOf.set(knob.key, name);
    try {
      knob.apply(value, draft);
    } catch (error) {
      if (error instanceof ValueError) throw new EmulatorConfigError(name, error.message);
      throw error;
    }
  }
  const blame = (key: string, message: string) => new EmulatorConfigError(sourceOf.get(key) ?? key, message);

  const models = draft.models ?? [...DEFAULT_MODELS];
  const unserved = (names: string[]) => names.filter((model) => !models.includes(model));
  const limitsFor = unserved(Object.keys(draft.byModel ?? {}));
  if (limitsFor.length > 0) throw blame("limits", `names models not served: ${limitsFor.join(", ")}`);
  const rulesFor = typeof draft.tokenRule === "object" ? unserved(Object.keys(draft.tokenRule)) : [];
  if (rulesFor.length > 0) throw blame("tokenRule", `names models not served: ${rulesFor.join(", ")}`);

  const faults: FaultRates = {
    ...(draft.rates === undefined ? {} : { rates: draft.rates }),
    ...(draft.burst429 === undefined ? {} : { burst429: draft.burst429 }),
    ...(draft.truncateTokens === undefined ? {} : { truncateTokens: draft.truncateTokens }),
    ...(draft.retryDelaySeconds === undefined ? {} : { retryDelaySeconds: draft.retryDelaySeconds }),
  };
  const rateLimits: RateLimitOptions = {
    ...(draft.tier === undefined ? {} : { tier: draft.tier }),
    ...(Object.keys(draft.all).length === 0 ? {} : { all: draft.all }),
    ...(draft.byModel === undefined ? {} : { byModel: draft.byModel }),
  };
  const options: EmulatorOptions = {
    ...(draft.models === undefined ? {} : { models: draft.models }),
    ...(draft.apiKeys === undefined ? {} : { apiKeys: draft.apiKeys }),
    ...(Object.keys(faults).length === 0 ? {} : { faults }),
    ...(draft.latencyMs === undefined ? {} : { latencyMs: draft.latencyMs }),
    ...(draft.seed === undefined ? {} : { seed: draft.seed }),
    ...(Object.keys(rateLimits).length === 0 ? {} : { rateLimits }),
    ...(draft.tokenRule === undefined ? {} : { imageTokenRule: draft.tokenRule }),
    // "For every model": the per-model defaults (900 for Gemini 3 Pro) give way too.
    ...(draft.maxImages === undefined
      ? {}
      : {
          maxImagesPerRequest: draft.maxImages,
          maxImagesPerRequestByModel: Object.fromEntries(models.map((model) => [model, draft.maxImages!])),
        }),
    ...(draft.maxRequestBytes === undefined ? {} : { maxRequestBytes: draft.maxRequestBytes }),
    ...(draft.maxInputTokens === undefined ? {} : { maxInputTokens: draft.maxInputTokens }),
    ...(draft.maxOutputTokens === undefined ? {} : { maxOutputTokens: draft.maxOutputTokens }),
    ...(draft.log === true ? { log: true } : {}),
    ...(Object.keys(draft.files).length === 0 ? {} : { files: draft.files }),
    ...(draft.allowUrlFetch === false ? { allowUrlFetch: false } : {}),
    ...(draft.urlFetchTimeoutMs === undefined ? {} : { urlFetchTimeoutMs: draft.urlFetchTimeoutMs }),
    ...(Object.keys(draft.batches).length === 0 ? {} : { batches: draft.batches }),
    ...(draft.maskSize === undefined ? {} : { sight: { maskSize: draft.maskSize } }),
  };
  return {
    options,
    port: draft.port ?? CLI_DEFAULT_PORT,
    host: draft.host ?? EMULATOR_DEFAULTS.host,
  };
}

function describeLimit(kind: (typeof LIMIT_KINDS)[number]): string {
  switch (kind) {
    case "rpm":
      return "requests per minute";
    case "tpm":
      return "input tokens per minute";
    case "rpd":
      return "requests per day";
  }
}

function integer(value: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
  const trimmed = value.trim();
  const parsed = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || parsed < minimum || parsed > maximum) {
    const range = maximum === Number.MAX_SAFE_INTEGER ? `>= ${minimum}` : `${minimum}-${maximum}`;
    throw new ValueError(`expected an integer ${range}, got "${value}"`);
  }
  return parsed;
}

function decimal(value: string, minimum: number): number {
  const trimmed = value.trim();
  const parsed = Number(trimmed);
  if (trimmed === "" || !Number.isFinite(parsed) || parsed < minimum) {
    throw new ValueError(`expected a number >= ${minimum}, got "${value}"`);
  }
  return parsed;
}

function nonEmpty(value: string): string {
  if (value.trim() === "") throw new ValueError("must not be empty");
  return value.trim();
}

function list(value: string): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) throw new ValueError(`expected a comma-separated list, got "${value}"`);
  return items;
}

function boolean(value: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(normalized)) return true;
  if (["0", "false", "no", "off", ""].includes(normalized)) return false;
  throw new ValueError(`expected true/false (or 1/0, yes/no, on/off), got "${value}"`);
}

function maskSize(value: string): MaskSize {
  if (value.trim().toLowerCase() === "box") return "box";
  try {
    return integer(value, 1, MAX_MASK_SIZE);
  } catch {
    throw new ValueError(`expected "box" or an integer 1-${MAX_MASK_SIZE}, got "${value}"`);
  }
}

function pairs(value: string, separator: string, what: string): [string, string][] {
  return list(value).map((item) => {
    const at = item.indexOf(separator);
    if (at <= 0 || at === item.length - 1) throw new ValueError(`expected ${what}, got "${item}"`);
    return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
  });
}

function latency(value: string): LatencyOption {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return decimal(trimmed, 0);
  const range = /^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$/.exec(trimmed);
  let parsed: LatencyOption;
  if (range) {
    parsed = { min: Number(range[1]), max: Number(range[2]) };
  } else {
    const fields = Object.fromEntries(pairs(trimmed, "=", "p50=MS,p99=MS[,max=MS]"));
    const unknown = Object.keys(fields).filter((key) => !["p50", "p99", "max"].includes(key));
    if (fields.p50 === undefined || fields.p99 === undefined || unknown.length > 0) {
      throw new ValueError(`expected MS, MIN-MAX or p50=MS,p99=MS[,max=MS], got "${value}"`);
    }
    parsed = {
      p50: decimal(fields.p50, 0),
      p99: decimal(fields.p99, 0),
      ...(fields.max === undefined ? {} : { max: decimal(fields.max, 0) }),
    };
  }
  try {
    new FaultInjector({ latencyMs: parsed });
  } catch (error) {
    throw new ValueError(`${(error as Error).message.replace(/^latencyMs /, "")}`);
  }
  return parsed;
}

function faultRates(value: string): Partial<Record<FaultName, number>> {
  const rates: Partial<Record<FaultName, number>> = {};
  for (const [name, rate] of pairs(value, "=", "NAME=RATE")) {
    if (!isFaultName(name)) throw new ValueError(`unknown fault "${name}"; known: ${FAULT_NAMES.join(", ")}`);
    const parsed = Number(rate);
    if (rate === "" || !(parsed >= 0 && parsed <= 1)) {
      throw new ValueError(`rate for ${name} must be between 0 and 1, got "${rate}"`);
    }
    rates[name] = parsed;
  }
  try {
    new FaultInjector({ faults: { rates } });
  } catch (error) {
    throw new ValueError((error as Error).message);
  }
  return rates;
}

function perModelLimits(value: string): Record<string, RateLimits> {
  const byModel: Record<string, RateLimits> = {};
  for (const entry of value
    .split(";")
    .map((item) => item.trim())
    .filter((item) => item !== "")) {
    const at = entry.indexOf(":");
    if (at <= 0) throw new ValueError(`expected MODEL:rpm=N,tpm=N,rpd=N, got "${entry}"`);
    const model = entry.slice(0, at).trim();
    const limits: RateLimits = {};
    for (const [kind, limit] of pairs(entry.slice(at + 1), "=", "rpm=N, tpm=N or rpd=N")) {
      if (kind !== "rpm" && kind !== "tpm" && kind !== "rpd") {
        throw new ValueError(`unknown limit "${kind}" for ${model}; use rpm, tpm or rpd`);
      }
      limits[kind] = integer(limit, 0);
    }
    byModel[model] = limits;
  }
  if (Object.keys(byModel).length === 0) throw new ValueError(`expected MODEL:rpm=N,...;..., got "${value}"`);
  return byModel;
}

function tokenRule(value: string): ImageTokenRuleName | Record<string, ImageTokenRuleName> {
  const trimmed = value.trim();
  const check = (rule: string): ImageTokenRuleName => {
    if (!isImageTokenRuleName(rule)) {
      throw new ValueError(`unknown token rule "${rule}"; known: ${IMAGE_TOKEN_RULES.join(", ")}`);
    }
    return rule;
  };
  if (!trimmed.includes("=")) return check(trimmed);
  return Object.fromEntries(pairs(trimmed, "=", "MODEL=RULE").map(([model, rule]) => [model, check(rule)]));
}
