import { z } from "zod";
import { RATE_TIER_NAMES } from "./rate-tiers.ts";

const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/**
 * Every environment variable Tessera reads, with its default and why it exists. Parsed once at
 * start-up; a bad value stops the process with the variable's name. docs/configuration.md is
 * generated from the `describe` texts (see configuration-doc.ts).
 */
export const envSchema = z.object({
  GEMINI_API_KEY: z
    .string()
    .min(1)
    .optional()
    .describe("Key for the Gemini API; required unless GOOGLE_GEMINI_BASE_URL points at the emulator"),
  GOOGLE_GEMINI_BASE_URL: z
    .url()
    .optional()
    .describe("Gemini endpoint; the SDK's own variable, set to the emulator's URL in tests and the demo"),
  GEMINI_MODEL: z.string().min(1).default("gemini-2.5-flash").describe("Model used when a run names none"),
  GEMINI_TIMEOUT_MS: positiveInt
    .default(120_000)
    .describe("Abort a generateContent call after this long; large images can take a minute"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .default("redis://127.0.0.1:6379")
    .describe("Redis holding the queue and run state; needs maxmemory-policy noeviction"),
  TESSERA_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only")
    .default("tessera")
    .describe("Namespace of every Redis key and BullMQ queue, so several deployments share one Redis"),
  TESSERA_CONCURRENCY: positiveInt
    .max(256)
    .default(4)
    .describe("Images a worker process annotates at once; Gemini latency, not CPU, is the limit"),
  TESSERA_JOB_LOCK_MS: positiveInt
    .min(1_000)
    .default(60_000)
    .describe(
      "A job whose worker stops renewing its lock this long (crash, SIGKILL) is handed to another worker",
    ),
  TESSERA_ATTEMPTS: positiveInt.max(50).default(5).describe("Attempts per image for transient failures"),
  TESSERA_MAX_SOURCE_BYTES: positiveInt
    .default(256 * 1024 * 1024)
    .describe(
      "Largest source object a worker reads into memory (it may be resized or converted below the inline limit)",
    ),
  TESSERA_URL_ALLOW_PRIVATE: bool
    .default(false)
    .describe(
      "Let URL-list sources fetch from loopback, link-local and private addresses; off, so a list cannot reach internal services or cloud metadata (SSRF)",
    ),
  TESSERA_URL_MAX_BYTES: positiveInt
    .default(50 * 1024 * 1024)
    .describe("Largest body fetched from one URL of a URL-list source; bigger images fail as too large"),
  TESSERA_URL_TIMEOUT_MS: positiveInt
    .min(100)
    .default(30_000)
    .describe("Time one URL fetch may take (connect, redirects and body) before it fails as transient"),
  TESSERA_PROBE_CONCURRENCY: positiveInt
    .max(1024)
    .default(64)
    .describe(
      "Header reads a scan keeps in flight; S3 answers in 10-50 ms, so 2,000 objects/s needs ~64 at once",
    ),
  TESSERA_S3_FAST_RANGE_READS: bool
    .default(true)
    .describe(
      "Header reads sign their own ranged S3 GETs (a quarter of the SDK's CPU); false routes them through the AWS SDK",
    ),
  TESSERA_MAX_IMAGE_BYTES: positiveInt
    .default(15 * 1024 * 1024)
    .describe("Largest image sent inline: base64 grows it by 4/3 and a request must stay under 20 MB"),
  TESSERA_MAX_IMAGES_PER_REQUEST: z
    .string()
    .optional()
    .describe(
      'Images per request by model prefix as JSON, e.g. {"gemini-2.5-flash":1000}; unset: the model\'s published limit (3,600 for 2.5, 900 for 3 Pro)',
    ),
  TESSERA_MAX_REQUEST_TOKENS: positiveInt
    .optional()
    .describe(
      "Input tokens one request may carry when images are packed together; unset: the model's input limit",
    ),
  GEMINI_TIER: z
    .enum(RATE_TIER_NAMES)
    .default("tier1")
    .describe(
      "Usage tier whose published RPM/TPM/RPD every worker shares through Redis (free, tier1-3, unlimited)",
    ),
  TESSERA_RPM: positiveInt
    .optional()
    .describe("Requests per minute for the fleet; overrides the tier's figure"),
  TESSERA_TPM: positiveInt
    .optional()
    .describe("Input tokens per minute for the fleet; overrides the tier's figure"),
  TESSERA_RPD: positiveInt.optional().describe("Requests per day for the fleet; overrides the tier's figure"),
  TESSERA_PRICES: z
    .string()
    .optional()
    .describe(
      'Per-model prices in USD per 1M tokens as JSON, e.g. {"gemini-2.5-flash":{"input":0.3,"output":2.5}}',
    ),
  TESSERA_MAX_OUTPUT_TOKENS: positiveInt
    .optional()
    .describe(
      "Output cap per request (maxOutputTokens), bounding one image's cost; unset: per task (caption 1024 ... segment 32768) times the images per request",
    ),
  S3_ENDPOINT: z.url().optional().describe("S3-compatible endpoint (MinIO, RGW); unset means AWS S3"),
  S3_FORCE_PATH_STYLE: bool
    .optional()
    .describe("Path-style S3 addressing; defaults to true when S3_ENDPOINT is set (most non-AWS servers)"),
  AWS_REGION: z.string().min(1).default("us-east-1").describe("S3 region; S3-compatible servers accept any"),
  AWS_ACCESS_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe("S3 credentials; unset uses the AWS default chain"),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional().describe("S3 secret, paired with AWS_ACCESS_KEY_ID"),
  AWS_SESSION_TOKEN: z.string().min(1).optional().describe("Temporary S3 credentials' session token"),
  TESSERA_METRICS_PORT: positiveInt
    .max(65_535)
    .optional()
    .describe(
      "Port of a worker's Prometheus /metrics (its own requests, latency, 429s, tokens); unset: none",
    ),
  TESSERA_METRICS_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe("Interface the worker's /metrics listens on; 0.0.0.0 in containers"),
  TESSERA_DASHBOARD_TOKEN: z
    .string()
    .min(16, "use at least 16 characters")
    .optional()
    .describe(
      "Secret the dashboard asks for (Bearer header or login form); unset: it only starts with --dev on 127.0.0.1",
    ),
  TESSERA_DASHBOARD_HOST: z
    .string()
    .min(1)
    .default("127.0.0.1")
    .describe(
      "Interface the dashboard listens on; 0.0.0.0 to serve other machines (a token is then required)",
    ),
  TESSERA_DASHBOARD_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8790)
    .describe("Port of the dashboard (web page, JSON API, /metrics, bull-board under /queues)"),
  TESSERA_DASHBOARD_ACTIONS: bool
    .default(false)
    .describe("Let the dashboard pause, resume, cancel and retry runs; off = read-only"),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url()
    .optional()
    .describe(
      "OTLP/HTTP collector (e.g. http://otel:4318): set, every queue add and job is traced through bullmq-otel",
    ),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .describe("service.name of the traces; default tessera-<command> (tessera-worker, tessera-scheduler...)"),
  LOG_LEVEL: z
    .enum(["debug", "info", "warn", "error"])
    .default("info")
    .describe("Least severe log line printed (JSON lines on stderr)"),
});

export type Env = z.infer<typeof envSchema>;
export type EnvName = keyof Env;
