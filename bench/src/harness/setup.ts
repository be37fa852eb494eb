import type { Redis } from "ioredis";
import { startEmulator, type Emulator, type EmulatorOptions } from "@tessera/gemini-emulator";
import { deleteByPrefix, useTestBucket, useTestPrefix, type TestBucket } from "@tessera/testing";
import { runTessera, type BenchProcess } from "./processes.ts";

export const MODEL = "gemini-2.5-flash";
export const API_KEY = "tessera-bench";

export interface BenchEnv {
  prefix: string;
  redis: Redis;
  bucket: TestBucket;
  emulator: Emulator;
  /** The environment of every `tessera` process the scenario starts. */
  env: NodeJS.ProcessEnv;
  /** Empties the Redis namespace between measured runs (the bucket stays). */
  resetRedis(): Promise<void>;
  close(): Promise<void>;
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
  const namespace = await useTestPrefix(`bench-${label}`);
  const { prefix, redis } = namespace;
  const bucket = await useTestBucket();
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
    bucket,
    emulator,
    env,
    resetRedis: async () => {
      await deleteByPrefix(redis, prefix);
    },
    close: async () => {
      await emulator.close();
      await namespace.cleanup();
      await bucket.cleanup();
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
