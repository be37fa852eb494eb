import type { Redis } from "ioredis";
import { startEmulator, type Emulator, type EmulatorOptions } from "@tessera/gemini-emulator";
import { deleteByPrefix, useTestBucket, useTestPrefix, type TestBucket } from "@tessera/testing";
import { runTessera, type BenchProcess } from "./processes.ts";

export const MODEL = "gemini-2.5-flash";
export const API_KEY = "tessera-bench";

/** Redis and the emulator, without a bucket: for scenarios whose sources are file:// folders. */
export interface LocalBenchEnv {
  prefix: string;
  redis: Redis;
  emulator: Emulator;
  /** The environment of every `tessera` process the scenario starts. */
  env: NodeJS.ProcessEnv;
  /** Empties the Redis namespace between measured runs (files and a bucket stay). */
  resetRedis(): Promise<void>;
  close(): Promise<void>;
}

export interface BenchEnv extends LocalBenchEnv {
  bucket: TestBucket;
}

/**
 * Everything a scenario needs on the shared machine: its own Redis namespace, its own bucket on
 * the project's S3 server and an emulator served from this process. The emulator lives here, not
 * in a child, so scenarios can watch every request as it arrives (onRequest).
 */
export async function openBench(
  label: string,
  emulatorOptions: EmulatorOptions,
  extraEnv: Record<string, string> = {},
): Promise<BenchEnv> {
  // Before the environment is copied: without S3_ENDPOINT this starts RGW and exports its address.
  const bucket = await useTestBucket();
  const local = await openLocalBench(label, emulatorOptions, extraEnv);
  return {
    ...local,
    bucket,
    close: async () => {
      await local.close();
      await bucket.cleanup();
    },
  };
}

/** As openBench without the S3 bucket, so a file:// scenario runs with no S3 server. */
export async function openLocalBench(
  label: string,
  emulatorOptions: EmulatorOptions,
  extraEnv: Record<string, string> = {},
): Promise<LocalBenchEnv> {
  const namespace = await useTestPrefix(`bench-${label}`);
  const { prefix, redis } = namespace;
  const emulator = await startEmulator({ port: 0, ...emulatorOptions });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TESSERA_PREFIX: prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: API_KEY,
    GEMINI_MODEL: MODEL,
    GEMINI_TIER: "unlimited",
    LOG_LEVEL: "info",
    ...extraEnv,
  };
  return {
    prefix,
    redis,
    emulator,
    env,
    resetRedis: async () => {
      await deleteByPrefix(redis, prefix);
    },
    close: async () => {
      await emulator.close();
      await namespace.cleanup();
    },
  };
}

/** The run summary `tessera run --wait --json` prints: the run hash, parsed. */
export interface RunSummary {
  runId: string;
  status: string;
  images: number;
  done: number;
  failed: number;
  skipped: number;
  tokens_prompt: number;
  tokens_image: number;
  estimate_tokens_prompt: number;
  estimate_done_prompt: number;
  createdAt?: string;
  scannedAt?: string;
  processedAt?: string;
  finishedAt?: string;
}

export function parseRunSummary(stdout: string): RunSummary {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as RunSummary;
}

/**
 * `tessera run s3://<bucket>/src --out s3://<bucket>/<out> --wait --json` with workers already
 * listening, timed from spawn to exit (scan, every annotation, the manifest).
 */
export async function runAndWait(
  bench: BenchEnv,
  out: string,
  extraArgs: string[] = [],
): Promise<{ run: BenchProcess; summary: RunSummary; seconds: number }> {
  const started = performance.now();
  const s3 = `s3://${bench.bucket.bucket}`;
  const run = await runTessera(
    ["run", `${s3}/src`, "--out", `${s3}/${out}`, ...extraArgs, "--wait", "--json"],
    bench.env,
  );
  const seconds = (performance.now() - started) / 1000;
  return { run, summary: parseRunSummary(run.stdout()), seconds };
}
