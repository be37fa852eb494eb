import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PRICES } from "@tessera/config";
import { createLogger, type ManifestLine, type RunConfig } from "@tessera/core";
import { createGeminiClient, FilesCache } from "@tessera/gemini";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { bullPrefix, enqueueFinalize, Producer, RunStore, type RunState } from "@tessera/queue";
import { storageCache } from "@tessera/storage";
import { COLORS, makeScene, useTestPrefix } from "@tessera/testing";
import { testRunConfig } from "./support.ts";
import { annotateRequest, runFiles, startWorker, type RunningWorker, type WorkerDeps } from "../src/index.ts";

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let emulator: Emulator;
let dir: string;
let deps: WorkerDeps;
let runs: RunStore;
let producer: Producer;
let worker: RunningWorker | undefined;
let counter = 0;

const storage = storageCache();

beforeAll(async () => {
  redisEnv = await useTestPrefix("worker");
  emulator = await startEmulator({ port: 0, faults: { retryDelaySeconds: 0.3 } });
  dir = await mkdtemp(join(tmpdir(), "tessera-worker-test-"));
  runs = new RunStore(redisEnv.redis, redisEnv.prefix);
  producer = new Producer(redisEnv.redis, redisEnv.prefix, {
    annotate: { attempts: 3, backoff: { type: "fixed", delay: 50 } },
  });
  deps = {
    runs,
    producer,
    gemini: createGeminiClient({ apiKey: "worker-test", baseUrl: emulator.url, timeoutMs: 10_000 }),
    storage,
    log: createLogger("silent"),
    maxImageBytes: 5 * 1024 * 1024,
    maxSourceBytes: 50 * 1024 * 1024,
    prices: DEFAULT_PRICES,
    now: () => new Date(),
  };
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

/** A run over `files` with every image enqueued, as ingest would leave it. */
async function createRun(files: Record<string, Buffer>, extra: Partial<RunConfig> = {}): Promise<RunConfig> {
  const runId = `run${++counter}`;
  const src = join(dir, runId, "src");
  for (const [key, bytes] of Object.entries(files)) {
    await mkdir(join(src, key, ".."), { recursive: true });
    await writeFile(join(src, key), bytes);
  }
  const config = testRunConfig(
    runId,
    pathToFileURL(src).href,
    pathToFileURL(join(dir, runId, "out")).href,
    extra,
  );
  await runs.create(config);
  return config;
}

async function enqueueAll(config: RunConfig): Promise<void> {
  const items = [];
  for await (const object of storage(config.source).list()) {
    items.push({
      jobId: `${config.runId}-${items.length}`,
      payload: {
        runId: config.runId,
        images: [{ key: object.key, etag: object.etag, size: object.size, mime: "image/png" }],
      },
    });
  }
  await producer.addBulk("annotate", items);
  if ((await runs.markScanned(config.runId, items.length)) === "completed-run") {
    await enqueueFinalize(runs, producer, config.runId);
  }
}

async function untilFinished(runId: string, timeoutMs = 20_000): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runs.require(runId);
    if (["completed", "budget_exhausted", "failed"].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function manifest(config: RunConfig): Promise<ManifestLine[]> {
  const text = (await storage(config.out).get(runFiles.manifest(config.runId))).toString("utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ManifestLine);
}

const scene = (width = 120, height = 80) => makeScene({ width, height, background: COLORS.yellow });

describe("annotate worker", () => {
  it("waits out a 429 queue-wide without using up an attempt", async () => {
    const config = await createRun({ "a.png": await scene() });
    emulator.resetStats();
    emulator.failNext(2, 429);
    worker = await startWorker(deps, { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 2 });
    await enqueueAll(config);
    const run = await untilFinished(config.runId);
    expect(run).toMatchObject({ status: "completed", done: 1, failed: 0 });
    const [line] = await manifest(config);
    expect(line).toMatchObject({ key: "a.png", status: "done", attempts: 1 });
    expect(emulator.stats.byRouteAndStatus.generateContent[429]).toBe(2);
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(1);
  });

  it("retries transient failures with backoff, then records what still fails", async () => {
    const recovers = await createRun({ "ok.png": await scene() });
    emulator.resetStats();
    emulator.failNext(2, 503);
    worker = await startWorker(deps, { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 });
    await enqueueAll(recovers);
    await untilFinished(recovers.runId);
    expect((await manifest(recovers))[0]).toMatchObject({ status: "done", attempts: 3 });

    const givesUp = await createRun({ "down.png": await scene() });
    emulator.failNext(3, 500);
    await enqueueAll(givesUp);
    const run = await untilFinished(givesUp.runId);
    expect(run).toMatchObject({ done: 0, failed: 1 });
    const [line] = await manifest(givesUp);
    expect(line).toMatchObject({ status: "failed", attempts: 3, error: { class: "transient" } });
    expect(line?.error?.message).toMatch(/^Gemini 500 INTERNAL/);
  });

  it("records permanent request errors at once, without retrying", async () => {
    // Declared PNG, actually a GIF: the worker's own check fails it before any call is paid.
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
    const config = await createRun({ "anim.gif": gif, "fine.png": await scene(50, 50) }, { convert: "skip" });
    emulator.resetStats();
    worker = await startWorker(deps, { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 2 });
    await enqueueAll(config);
    const run = await untilFinished(config.runId);
    expect(run).toMatchObject({ done: 1, failed: 1 });
    const lines = await manifest(config);
    expect(lines.find((l) => l.key === "anim.gif")).toMatchObject({
      status: "failed",
      attempts: 1,
      error: {
        class: "bad_image",
        message: "unsupported image format image/gif (policy: skip)",
      },
    });
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(1);

    // Gemini's own 4xx (here 404 for a model it does not serve) is final too.
    const unknownModel = await createRun({ "x.png": await scene() });
    await redisEnv.redis.hset(runs.keys.run(unknownModel.runId), "model", "gemini-0-unknown");
    await enqueueAll(unknownModel);
    await untilFinished(unknownModel.runId);
    const [line] = await manifest(unknownModel);
    expect(line).toMatchObject({ status: "failed", attempts: 1, error: { class: "permanent" } });
    expect(line?.error?.message).toMatch(/^Gemini 404 NOT_FOUND: models\/gemini-0-unknown is not found/);
  });

  it("never pays twice for an image: duplicate jobs and a crash between write and record", async () => {
    const config = await createRun({ "one.png": await scene(), "two.png": await scene(64, 64) });
    const objects = new Map<string, { etag: string; size: number }>();
    for await (const o of storage(config.source).list()) objects.set(o.key, o);
    const payload = (key: string) => ({
      runId: config.runId,
      images: [{ key, etag: objects.get(key)!.etag, size: objects.get(key)!.size, mime: "image/png" }],
    });
    emulator.resetStats();

    // A previous attempt wrote two.png's annotation and died before recording it.
    expect(await annotateRequest(deps, payload("two.png"), { number: 1, max: 3 })).toEqual(["done"]);
    await redisEnv.redis.hdel(runs.keys.items(config.runId), "two.png");
    await redisEnv.redis.hincrby(runs.keys.run(config.runId), "done", -1);
    expect(await annotateRequest(deps, payload("two.png"), { number: 2, max: 3 })).toEqual(["done"]);
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(1);

    // The same image delivered twice.
    expect(await annotateRequest(deps, payload("one.png"), { number: 1, max: 3 })).toEqual(["done"]);
    expect(await annotateRequest(deps, payload("one.png"), { number: 1, max: 3 })).toEqual([
      "already-recorded",
    ]);
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(2);
    expect(await runs.require(config.runId)).toMatchObject({ done: 2 });
  });

  it("sends only the images of a request that are not yet recorded, and records each apart", async () => {
    const config = await createRun(
      { "a.png": await scene(), "b.png": await scene(64, 64), "c.png": await scene(48, 32) },
      { imagesPerRequest: 3 },
    );
    const refs = [];
    for await (const o of storage(config.source).list())
      refs.push({ key: o.key, etag: o.etag, size: o.size, mime: "image/png" });
    const [a, b, c] = refs.sort((x, y) => x.key.localeCompare(y.key));
    emulator.resetStats();
    expect(await annotateRequest(deps, { runId: config.runId, images: [b!] }, { number: 1, max: 3 })).toEqual(
      ["done"],
    );
    // A retried job of three whose middle image is already done: two images go, in one request.
    const outcomes = await annotateRequest(
      deps,
      { runId: config.runId, images: [a!, b!, c!] },
      { number: 2, max: 3 },
    );
    expect(outcomes).toEqual(["done", "already-recorded", "done"]);
    expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(2);
    expect(emulator.stats.imagesSeen).toBe(3);
    const state = await runs.require(config.runId);
    expect(state).toMatchObject({ done: 3 });
    expect(state.tokens_prompt).toBe(emulator.stats.billedPromptTokens);
    for (const key of ["a.png", "c.png"]) {
      const line = await runs.itemOutcome(config.runId, key);
      expect(line).toMatchObject({ status: "done", attempts: 2 });
    }
  });

  it("never spends past the run's token budget, and skips the rest as budget", async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 6; i++) files[`img-${i}.png`] = await scene(100 + i, 80);
    const config = await createRun(files, { maxOutputTokens: 100, budgetMaxTokens: 1_000 });
    worker = await startWorker(deps, { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 4 });
    await enqueueAll(config);
    const run = await untilFinished(config.runId);
    expect(run.status).toBe("budget_exhausted");
    expect(run.done).toBeGreaterThanOrEqual(1);
    expect(run.budget_skipped).toBeGreaterThanOrEqual(1);
    expect(run.done + run.budget_skipped).toBe(6);
    expect(run.tokens_prompt + run.tokens_output).toBeLessThanOrEqual(1_000);
    const skipped = (await manifest(config)).filter((l) => l.status === "skipped");
    expect(skipped).toHaveLength(run.budget_skipped);
    expect(skipped[0]?.error).toMatchObject({ class: "budget" });
    const summary = JSON.parse(
      (await storage(config.out).get(runFiles.runJson(config.runId))).toString("utf8"),
    ) as {
      status: string;
      costUsd: number;
    };
    expect(summary.status).toBe("budget_exhausted");
    expect(summary.costUsd).toBeGreaterThan(0);
  });

  it("sends through the Files API once per content and deletes the uploads when the run ends", async () => {
    const same = await scene(300, 200);
    const config = await createRun(
      { "a.png": same, "copy-of-a.png": same, "b.png": await scene(320, 200) },
      { transport: "files" },
    );
    emulator.resetStats();
    const files = new FilesCache({ redis: redisEnv.redis, prefix: redisEnv.prefix, client: deps.gemini });
    worker = await startWorker(
      { ...deps, files },
      { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 },
    );
    await enqueueAll(config);
    const run = await untilFinished(config.runId);
    expect(run).toMatchObject({ status: "completed", done: 3 });
    const annotation = JSON.parse(
      (await storage(config.out).get(runFiles.annotation(config.runId, "copy-of-a.png"))).toString("utf8"),
    ) as { sent: { transport: string } };
    expect(annotation.sent.transport).toBe("files");
    // Two distinct images: two uploads, three calls; nothing left stored after the run.
    expect(emulator.stats.byRoute.generateContent).toBe(3);
    // A resumable upload is a start request plus one chunk for small files.
    expect(emulator.stats.byRouteAndStatus.uploadFile?.[200]).toBe(4);
    expect(emulator.snapshot().files).toEqual({ count: 0, bytes: 0 });
    expect((await files.usage()).usedBytes).toBe(0);
  });

  it("falls back from URL transport when the source cannot give a pre-signed URL", async () => {
    const config = await createRun({ "u.png": await scene() }, { transport: "url" });
    worker = await startWorker(deps, { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 });
    await enqueueAll(config);
    await untilFinished(config.runId);
    const annotation = JSON.parse(
      (await storage(config.out).get(runFiles.annotation(config.runId, "u.png"))).toString("utf8"),
    ) as { sent: { transport: string }; warnings: string[] };
    expect(annotation.sent.transport).toBe("inline");
    expect(annotation.warnings).toContain(
      "sent inline, not by URL: the source storage cannot give a pre-signed URL",
    );
  });

  it("fails a job whose payload does not match the catalog, without retrying it", async () => {
    worker = await startWorker(deps, { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 });
    const raw = new Queue("annotate", { connection: redisEnv.redis, prefix: bullPrefix(redisEnv.prefix) });
    try {
      const job = await raw.add("annotate", { runId: "x", key: 42 }, { attempts: 3 });
      const deadline = Date.now() + 10_000;
      while ((await job.getState()) !== "failed" && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const failed = await raw.getJob(job.id!);
      expect(await failed?.getState()).toBe("failed");
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toMatch(/invalid annotate payload/);
    } finally {
      await raw.close();
    }
    await expect(
      producer.add("annotate", {
        jobId: "bad",
        payload: { runId: "r", images: [{ key: "", etag: "e", size: -1, mime: "x" }] },
      }),
    ).rejects.toThrow(/invalid annotate payload/);
  });
});
