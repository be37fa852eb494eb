import { loadConfig, ConfigError, type Config, type Env } from "@tessera/config";
import { createLogger, type Logger } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import { assertRedisReachable, createRedis, Producer, RunStore } from "@tessera/queue";
import { storageCache, type Storage } from "@tessera/storage";
import type { Redis } from "ioredis";
import { startTracing } from "./tracing.ts";

/** Flags shared by every command that talks to Redis; each overrides its environment variable. */
export interface CommonFlags {
  redisUrl?: string;
  prefix?: string;
  s3Endpoint?: string;
  logLevel?: string;
}

export function configFrom(
  flags: CommonFlags,
  extra: Partial<Record<keyof Env, string | undefined>> = {},
): Config {
  return loadConfig(process.env, {
    REDIS_URL: flags.redisUrl,
    TESSERA_PREFIX: flags.prefix,
    LOG_LEVEL: flags.logLevel,
    S3_ENDPOINT: flags.s3Endpoint,
    ...extra,
  });
}

export interface Context {
  config: Config;
  log: Logger;
  redis: Redis;
  runs: RunStore;
  producer: Producer;
  storage: (uri: string) => Storage;
  close(): Promise<void>;
}

export async function openContext(config: Config, role: "worker" | "client"): Promise<Context> {
  const log = createLogger(config.env.LOG_LEVEL);
  // Before any queue exists: bullmq-otel is set on queues and workers as they are made.
  const stopTracing =
    config.env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? undefined
      : await startTracing(
          config.env.OTEL_EXPORTER_OTLP_ENDPOINT,
          config.env.OTEL_SERVICE_NAME ?? `tessera-${process.argv[2] ?? "cli"}`,
        );
  const redis = createRedis(config.env.REDIS_URL, role);
  try {
    await assertRedisReachable(redis, config.env.REDIS_URL);
  } catch (err) {
    redis.disconnect();
    await stopTracing?.().catch(() => undefined);
    throw err;
  }
  const producer = new Producer(redis, config.env.TESSERA_PREFIX, {
    annotate: { attempts: config.env.TESSERA_ATTEMPTS },
  });
  return {
    config,
    log,
    redis,
    runs: new RunStore(redis, config.env.TESSERA_PREFIX),
    producer,
    storage: storageCache(config.s3, config.urls),
    async close() {
      await producer.close();
      await redis.quit().catch(() => redis.disconnect());
      await stopTracing?.().catch((err: unknown) =>
        log.warn("could not flush traces", { error: String(err) }),
      );
    },
  };
}

/** What the dashboard reads through: this context's Redis, queues and storage. */
export function dashboardDeps(ctx: Context) {
  return {
    redis: ctx.redis,
    prefix: ctx.config.env.TESSERA_PREFIX,
    producer: ctx.producer,
    storage: ctx.storage,
    log: ctx.log,
    now: () => new Date(),
  };
}

/** The API key, or a clear refusal; the emulator accepts any key, so one is made up for it. */
export function geminiClientFor(config: Config) {
  const { GEMINI_API_KEY, GOOGLE_GEMINI_BASE_URL, GEMINI_TIMEOUT_MS } = config.env;
  if (GEMINI_API_KEY === undefined && GOOGLE_GEMINI_BASE_URL === undefined) {
    throw new ConfigError(
      "Invalid configuration:\n  GEMINI_API_KEY: required to call Gemini (or set GOOGLE_GEMINI_BASE_URL to an emulator)",
    );
  }
  return createGeminiClient({
    apiKey: GEMINI_API_KEY ?? "tessera-emulator",
    ...(GOOGLE_GEMINI_BASE_URL === undefined ? {} : { baseUrl: GOOGLE_GEMINI_BASE_URL }),
    timeoutMs: GEMINI_TIMEOUT_MS,
  });
}
