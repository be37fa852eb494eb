import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PRICES } from "@tessera/config";
import { createLogger, type ManifestLine, type RunConfig } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { Producer, RunStore, type RunState } from "@tessera/queue";
import { storageCache } from "@tessera/storage";
import { COLORS, makeScene, useTestPrefix } from "@tessera/testing";
import { runFiles, startWorker, type RunningWorker } from "@tessera/worker";
import { annotateJobId, resumeRun, retryFailed, startRun, type IngestDeps } from "../src/index.ts";

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let emulator: Emulator;
let dir: string;
let runs: RunStore;
let producer: Producer;
let deps: IngestDeps;
let worker: RunningWorker | undefined;
let counter = 0;

const storage = storageCache();

beforeAll(async () => {
  redisEnv = await useTestPrefix("lifecycle");
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), "tessera-lifecycle-"));
  runs = new RunStore(redisEnv.redis, redisEnv.prefix);
  // One attempt, so a transient failure is final and `retry --failed` has something to do.
  producer = new Producer(redisEnv.redis, redisEnv.prefix, { annotate: { attempts: 1 } });
  deps = { runs, producer, storage, log: createLogger("silent"), now: () => new Date() };
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

afterAll(async () => {
  await producer?.close();
  await emulator?.close();
  await redisEnv?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function startWorkers(concurrency: number): Promise<void> {
  worker = await startWorker(
    {
      runs,
      producer,
      gemini: createGeminiClient({ apiKey: "k", baseUrl: emulator.url, timeoutMs: 10_000 }),
      storage,
      log: createLogger("silent"),
      maxImageBytes: 5_000_000,
      maxSourceBytes: 50_000_000,
      prices: DEFAULT_PRICES,
      now: () => new Date(),
    },
    { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency },
  );
}

async function dataset(count: number): Promise<{ source: string; out: string }> {
  const base = join(dir, `set${++counter}`);
  await mkdir(join(base, "src"), { recursive: true });
  for (let i = 0; i < count; i++) {
    await writeFile(
      join(base, "src", `img-${String(i).padStart(2, "0")}.png`),
      await makeScene({ width: 40 + i, height: 30, background: COLORS.blue }),
    );
  }
  return { source: pathToFileURL(join(base, "src")).href, out: pathToFileURL(join(base, "out")).href };
}

async function until(runId: string, statuses: string[], timeoutMs = 20_000): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runs.require(runId);
    if (statuses.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function manifest(out: string, runId: string): Promise<ManifestLine[]> {
  const text = (await storage(out).get(runFiles.manifest(runId))).toString("utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ManifestLine);
}

const request = (locations: { source: string; out: string }) => ({
  ...locations,
  task: "caption" as const,
  model: "gemini-2.5-flash",
  maxOutputTokens: 256,
  detail: "standard" as const,
  convert: "convert" as const,
  transport: "auto" as const,
  keepFiles: false,
  cache: true,
  prices: DEFAULT_PRICES,
});

describe("run lifecycle", () => {
  it("cancel stops sending; every image is still accounted for once", async () => {
    const slow = await startEmulator({ port: 0, latencyMs: 150 });
    try {
      worker = await startWorker(
        {
          runs,
          producer,
          gemini: createGeminiClient({ apiKey: "k", baseUrl: slow.url, timeoutMs: 10_000 }),
          storage,
          log: createLogger("silent"),
          maxImageBytes: 5_000_000,
          maxSourceBytes: 50_000_000,
          prices: DEFAULT_PRICES,
          now: () => new Date(),
        },
        { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 },
      );
      const locations = await dataset(12);
      const { runId } = await startRun(deps, request(locations));
      while ((await runs.require(runId)).done < 1) await new Promise((r) => setTimeout(r, 20));
      expect(await runs.cancel(runId)).toBe("cancelling");
      const run = await until(runId, ["cancelled"]);
      expect(run.done).toBeGreaterThanOrEqual(1);
      expect(run.cancelled).toBeGreaterThanOrEqual(1);
      expect(run.done + run.cancelled).toBe(12);
      const lines = await manifest(locations.out, runId);
      expect(lines).toHaveLength(12);
      expect(lines.filter((l) => l.error?.class === "cancelled")).toHaveLength(run.cancelled);
      // Nothing was sent for the cancelled images.
      expect(slow.stats.byRouteAndStatus.generateContent[200]).toBe(run.done);
      expect(await runs.cancel(runId)).toBe("already-ended");
    } finally {
      await worker?.close();
      worker = undefined;
      await slow.close();
    }
  });

  it("retry --failed sends only the failures again and completes the run", async () => {
    await startWorkers(1);
    const locations = await dataset(4);
    emulator.resetStats();
    emulator.failNext(1, 503);
    const { runId } = await startRun(deps, request(locations));
    const first = await until(runId, ["completed"]);
    expect(first).toMatchObject({ done: 3, failed: 1 });

    expect(await retryFailed(deps, runId)).toEqual({ retried: 1 });
    const second = await until(runId, ["completed"]);
    expect(second).toMatchObject({ done: 4, failed: 0 });
    const lines = await manifest(locations.out, runId);
    expect(lines.map((l) => l.status)).toEqual(["done", "done", "done", "done"]);
    // One paid call per image: the three done the first time were not sent again.
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(4);
    expect(await retryFailed(deps, runId)).toEqual({ retried: 0 });
  });

  it("resume finishes a scan that died half-way without sending anything twice", async () => {
    const locations = await dataset(5);
    // What a crashed ingest leaves: the run, two images enqueued, no "scanned" mark.
    const config: RunConfig = {
      runId: `resume${counter}`,
      ...request(locations),
      prompt: "Caption this image.",
      taskOptions: "{}",
      configHash: "",
      imagesPerRequest: 1,
      createdAt: new Date().toISOString(),
    };
    await runs.create(config);
    const objects = [];
    for await (const o of storage(locations.source).list()) objects.push(o);
    await producer.addBulk(
      "annotate",
      objects.slice(0, 2).map((o) => ({
        jobId: annotateJobId(config.runId, o.key),
        payload: {
          runId: config.runId,
          images: [{ key: o.key, etag: o.etag, size: o.size, mime: "image/png" }],
        },
      })),
    );
    emulator.resetStats();
    await startWorkers(2);
    await until(config.runId, ["scanning"]);
    while ((await runs.require(config.runId)).done < 2) await new Promise((r) => setTimeout(r, 20));

    const resumed = await resumeRun(deps, config.runId);
    expect(resumed).toMatchObject({ images: 5, skipped: 0 });
    const run = await until(config.runId, ["completed"]);
    expect(run).toMatchObject({ images: 5, done: 5, objects: 5 });
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(5);
    await expect(resumeRun(deps, config.runId)).rejects.toThrow(/finished scanning/);
  });
});
