// Shared set-up of the worker's S3 integration tests: a run config as ingest would store it, and
// worker dependencies on the real Redis, S3 server and emulator.
import type { Redis } from "ioredis";
import { DEFAULT_PRICES } from "@tessera/config";
import { createLogger, type ManifestLine, type RunConfig } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import {
  enqueueFinalize,
  ImageLeases,
  type JobPayload,
  Producer,
  RunStore,
  type RunState,
} from "@tessera/queue";
import { storageCache, type S3Config, type Storage } from "@tessera/storage";
import { startEmulator, type Emulator, type EmulatorOptions } from "@tessera/gemini-emulator";
import { COLORS, makeScene, useTestBucket, useTestPrefix, type Rgb, type TestBucket } from "@tessera/testing";
import { runFiles, startWorker, type WorkerDeps } from "../src/index.ts";

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

/**
 * Runs a created run to the end in this process: enqueues `payloads` (one job each), marks the
 * run scanned over `images`, starts a worker and waits (30 s at most) for "completed". Returns
 * the run and its manifest lines as written to the output.
 */
export async function runJobsToEnd(
  deps: WorkerDeps,
  env: { redis: Redis; prefix: string; concurrency: number },
  config: RunConfig,
  payloads: readonly JobPayload<"annotate">[],
  images: number,
): Promise<{ run: RunState; lines: ManifestLine[] }> {
  const worker = await startWorker(deps, {
    connection: env.redis,
    prefix: env.prefix,
    concurrency: env.concurrency,
  });
  try {
    await deps.producer.addBulk(
      "annotate",
      payloads.map((payload, i) => ({ jobId: `${config.runId}-${i}`, payload })),
    );
    if ((await deps.runs.markScanned(config.runId, images)) === "completed-run") {
      await enqueueFinalize(deps.runs, deps.producer, config.runId);
    }
    const deadline = Date.now() + 30_000;
    let run = await deps.runs.require(config.runId);
    while (run.status !== "completed") {
      if (Date.now() > deadline) throw new Error(`run still ${run.status}`);
      await new Promise((r) => setTimeout(r, 50));
      run = await deps.runs.require(config.runId);
    }
    const text = (await deps.storage(config.out).get(runFiles.manifest(config.runId))).toString("utf8");
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ManifestLine);
    return { run, lines };
  } finally {
    await worker.close();
  }
}

/** The run store and a producer whose annotate jobs retry fast (3 attempts, 50 ms apart). */
export function testQueues(redis: Redis, prefix: string): { runs: RunStore; producer: Producer } {
  return {
    runs: new RunStore(redis, prefix),
    producer: new Producer(redis, prefix, {
      annotate: { attempts: 3, backoff: { type: "fixed", delay: 50 } },
    }),
  };
}

/** Puts one 160x100 PNG scene per background under `img-<i>.png`. */
export async function putScenes(storage: Storage, backgrounds: readonly Rgb[]): Promise<void> {
  for (const [i, background] of backgrounds.entries()) {
    await storage.put(`img-${i}.png`, await makeScene({ width: 160, height: 100, background }), {
      contentType: "image/png",
    });
  }
}

export interface WorkerTestEnv {
  redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
  bucket: TestBucket;
  emulator: Emulator;
  runs: RunStore;
  producer: Producer;
  deps: WorkerDeps;
  /** Closes the emulator and the producer, then removes the Redis namespace and the bucket. */
  close(): Promise<void>;
}

/**
 * The usual set-up of a worker integration test: its own Redis namespace, a bucket holding
 * yellow, blue and green scenes under `src/`, an emulator (with `emulatorOptions`) and worker
 * dependencies on all three.
 */
export async function openWorkerTestEnv(
  label: string,
  emulatorOptions: EmulatorOptions = {},
): Promise<WorkerTestEnv> {
  const redisEnv = await useTestPrefix(label);
  const bucket = await useTestBucket();
  const emulator = await startEmulator({ port: 0, ...emulatorOptions });
  const { runs, producer } = testQueues(redisEnv.redis, redisEnv.prefix);
  const deps = testWorkerDeps({
    runs,
    producer,
    redis: redisEnv.redis,
    prefix: redisEnv.prefix,
    s3: bucket.config,
    geminiUrl: emulator.url,
  });
  await putScenes(bucket.storage("src/"), [COLORS.yellow, COLORS.blue, COLORS.green]);
  return {
    redisEnv,
    bucket,
    emulator,
    runs,
    producer,
    deps,
    async close() {
      await producer.close();
      await emulator.close();
      await redisEnv.cleanup();
      await bucket.cleanup();
    },
  };
}
