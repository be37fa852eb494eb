// Shared set-up of the worker's S3 integration tests: a run config as ingest would store it, and
// worker dependencies on the real Redis, S3 server and emulator.
import type { Redis } from "ioredis";
import { DEFAULT_PRICES } from "@tessera/config";
import { createLogger, type RunConfig } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import { ImageLeases, type Producer, type RunStore } from "@tessera/queue";
import { storageCache, type S3Config } from "@tessera/storage";
import type { WorkerDeps } from "../src/index.ts";

/** A caption run with the CLI's defaults; `extra` overrides any field. */
export function testRunConfig(
  runId: string,
  source: string,
  out: string,
  extra: Partial<RunConfig> = {},
): RunConfig {
  return {
    runId,
    task: "caption",
    model: "gemini-2.5-flash",
    prompt: "Caption this image.",
    source,
    out,
    createdAt: new Date().toISOString(),
    maxOutputTokens: 1024,
    detail: "standard",
    convert: "convert",
    transport: "auto",
    imagesPerRequest: 1,
    keepFiles: false,
    cache: true,
    taskOptions: "{}",
    configHash: "",
    ...extra,
  };
}

/** Worker dependencies with leases (5 s TTL) and silent logs. */
export function testWorkerDeps(options: {
  runs: RunStore;
  producer: Producer;
  redis: Redis;
  prefix: string;
  s3: S3Config;
  geminiUrl: string;
}): WorkerDeps {
  return {
    runs: options.runs,
    producer: options.producer,
    gemini: createGeminiClient({ apiKey: "worker-test", baseUrl: options.geminiUrl, timeoutMs: 10_000 }),
    storage: storageCache(options.s3),
    log: createLogger("silent"),
    leases: new ImageLeases(options.redis, options.prefix, 5_000),
    maxImageBytes: 5 * 1024 * 1024,
    maxSourceBytes: 50 * 1024 * 1024,
    prices: DEFAULT_PRICES,
    now: () => new Date(),
  };
}
