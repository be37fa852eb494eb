import { z } from "zod";
import { envSchema, type Env } from "./env.ts";
import { DEFAULT_PRICES, pricesSchema, type ModelPrice } from "./prices.ts";
import { RATE_TIERS } from "./rate-tiers.ts";
import { byModelPrefix, modelRequestLimits, type RequestLimits } from "./model-limits.ts";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  fastRangeReads: boolean;
}

/** How URL-list sources fetch (see @tessera/storage UrlSourceOptions). */
export interface UrlSettings {
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs: number;
}

export interface Config {
  env: Env;
  s3: S3Settings;
  urls: UrlSettings;
  /** The fleet's limits per model (one set for every model today). */
  rateLimits: (model: string) => { rpm?: number; tpm?: number; rpd?: number };
  prices: Readonly<Record<string, ModelPrice>>;
  /** What one request may hold for a model: images, inline bytes, input tokens. */
  requestLimits: (model: string) => RequestLimits;
}

const SECRET = /KEY|SECRET|TOKEN/;

/**
 * Parses the environment (plus CLI overrides, which win) once. Empty strings count as unset, as
 * shells and compose files often produce them. The error names every bad variable and never
 * echoes a secret's value.
 */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<keyof Env, string | undefined>> = {},
): Config {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(envSchema.shape)) {
    const value = overrides[name as keyof Env] ?? source[name];
    if (value !== undefined && value !== "") raw[name] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, raw));
  const env = parsed.data;
  if ((env.AWS_ACCESS_KEY_ID === undefined) !== (env.AWS_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError(
      "Invalid configuration: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together",
    );
  }
  const s3: S3Settings = {
    region: env.AWS_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE ?? env.S3_ENDPOINT !== undefined,
    fastRangeReads: env.TESSERA_S3_FAST_RANGE_READS,
  };
  if (env.S3_ENDPOINT !== undefined) s3.endpoint = env.S3_ENDPOINT;
  if (env.AWS_ACCESS_KEY_ID !== undefined && env.AWS_SECRET_ACCESS_KEY !== undefined) {
    s3.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    if (env.AWS_SESSION_TOKEN !== undefined) s3.credentials.sessionToken = env.AWS_SESSION_TOKEN;
  }
  const tier: { rpm?: number; tpm?: number; rpd?: number } = RATE_TIERS[env.GEMINI_TIER];
  const limits = {
    ...tier,
    ...(env.TESSERA_RPM === undefined ? {} : { rpm: env.TESSERA_RPM }),
    ...(env.TESSERA_TPM === undefined ? {} : { tpm: env.TESSERA_TPM }),
    ...(env.TESSERA_RPD === undefined ? {} : { rpd: env.TESSERA_RPD }),
  };
  return {
    env,
    s3,
    urls: {
      allowPrivate: env.TESSERA_URL_ALLOW_PRIVATE,
      maxBytes: env.TESSERA_URL_MAX_BYTES,
      timeoutMs: env.TESSERA_URL_TIMEOUT_MS,
    },
    rateLimits: () => limits,
    prices: { ...DEFAULT_PRICES, ...parsePrices(env.TESSERA_PRICES) },
    requestLimits: requestLimitsOf(env),
  };
}

function requestLimitsOf(env: Env): (model: string) => RequestLimits {
  const overrides = parseJson(
    "TESSERA_MAX_IMAGES_PER_REQUEST",
    env.TESSERA_MAX_IMAGES_PER_REQUEST,
    z.record(z.string().min(1), z.number().int().positive()),
  );
  return (model) => {
    const limits = modelRequestLimits(model);
    return {
      maxImagesPerRequest: byModelPrefix(overrides, model) ?? limits.maxImagesPerRequest,
      maxInlineBytes: env.TESSERA_MAX_IMAGE_BYTES,
      maxInputTokens: Math.min(limits.maxInputTokens, env.TESSERA_MAX_REQUEST_TOKENS ?? Infinity),
    };
  };
}

function parseJson<T>(
  name: string,
  text: string | undefined,
  schema: z.ZodType<T>,
): T | Record<string, never> {
  if (text === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`Invalid configuration:\n  ${name}: not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      `Invalid configuration:\n  ${name}: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`,
    );
  }
  return parsed.data;
}

function parsePrices(text: string | undefined): Record<string, ModelPrice> {
  return parseJson("TESSERA_PRICES", text, pricesSchema);
}

function describeIssues(error: z.ZodError, raw: Record<string, string>): string {
  const lines = error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "?");
    const value = raw[name];
    const shown =
      value === undefined ? "" : SECRET.test(name) ? " (value hidden)" : ` (got ${JSON.stringify(value)})`;
    return `  ${name}: ${issue.message}${shown}`;
  });
  return `Invalid configuration:\n${lines.join("\n")}`;
}
