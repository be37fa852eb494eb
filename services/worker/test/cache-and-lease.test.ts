// The cross-run annotation cache and the per-image lease, against real Redis, the real S3 server
// and the emulator over HTTP: a second run with the same settings pays nothing, and two workers
// racing on one image pay once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManifestLine, RunConfig } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import type { Producer, RunStore } from "@tessera/queue";
import { type RunState } from "@tessera/queue";
import { COLORS, makeScene, type TestBucket } from "@tessera/testing";
import {
  annotateLeased,
  cacheFiles,
  cacheKey,
  LeaseHeld,
  runFiles,
  startWorker,
  type WorkerDeps,
} from "../src/index.ts";
import { openWorkerTestEnv, runJobsToEnd, testRunConfig, type WorkerTestEnv } from "./support.ts";

let redisEnv: WorkerTestEnv["redisEnv"];
let bucket: TestBucket;
let emulator: Emulator;
let slowEmulator: Emulator;
let runs: RunStore;
let producer: Producer;
let deps: WorkerDeps;
let counter = 0;

let env: WorkerTestEnv | undefined;

beforeAll(async () => {
  env = await openWorkerTestEnv("cache-lease");
  ({ redisEnv, bucket, emulator, runs, producer, deps } = env);
  // Slow enough that two concurrent attempts overlap for certain.
  slowEmulator = await startEmulator({ port: 0, latencyMs: 600 });
});

afterAll(async () => {
  await slowEmulator?.close();
  await env?.close();
});

const src = () => `s3://${bucket.bucket}/src/`;
const out = () => `s3://${bucket.bucket}/out/`;

async function createRun(extra: Partial<RunConfig> = {}): Promise<RunConfig> {
  const config = testRunConfig(`cache${++counter}`, src(), out(), extra);
  await runs.create(config);
  return config;
}

async function payloads(config: RunConfig) {
  const items = [];
  for await (const object of deps.storage(config.source).list()) {
    items.push({
      runId: config.runId,
      images: [{ key: object.key, etag: object.etag, size: object.size, mime: "image/png" }],
    });
  }
  return items;
}

async function runToEnd(config: RunConfig): Promise<{ run: RunState; lines: ManifestLine[]; paid: number }> {
  const before = emulator.stats.byRouteAndStatus.generateContent[200] ?? 0;
  const items = await payloads(config);
  const env = { redis: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 3 };
  const { run, lines } = await runJobsToEnd(deps, env, config, items, items.length);
  return { run, lines, paid: (emulator.stats.byRouteAndStatus.generateContent[200] ?? 0) - before };
}

async function cacheEntries(): Promise<number> {
  let n = 0;
  for await (const _ of deps.storage(out()).list({ prefix: cacheFiles.folder })) n++;
  return n;
}

describe("cross-run annotation cache", () => {
  it("a second run with the same settings pays nothing and records the images as cached", async () => {
    const first = await runToEnd(await createRun());
    expect(first.paid).toBe(3);
    expect(first.run).toMatchObject({ done: 3, cached: 0 });
    expect(first.lines.every((l) => l.cached === undefined && l.tokens !== undefined)).toBe(true);
    expect(await cacheEntries()).toBe(3);

    const secondConfig = await createRun();
    const second = await runToEnd(secondConfig);
    expect(second.paid).toBe(0);
    expect(second.run).toMatchObject({
      done: 3,
      cached: 3,
      tokens_prompt: 0,
      tokens_output: 0,
      cost_micros: 0,
    });
    expect(second.lines.map((l) => [l.status, l.cached, l.tokens])).toEqual([
      ["done", true, undefined],
      ["done", true, undefined],
      ["done", true, undefined],
    ]);
    // The run's folder is complete on its own: its annotations name it and the run that paid.
    for (const line of second.lines) {
      const annotation = JSON.parse(
        (await deps.storage(out()).get(line.annotationKey!)).toString("utf8"),
      ) as { runId: string; cachedFrom: string; source: { key: string; etag: string } };
      expect(annotation).toMatchObject({
        runId: secondConfig.runId,
        cachedFrom: first.run.runId,
        source: { key: line.key, etag: line.etag },
      });
    }
    const summary = JSON.parse(
      (await deps.storage(out()).get(runFiles.runJson(secondConfig.runId))).toString("utf8"),
    ) as { counts: { done: number; cached: number } };
    expect(summary.counts).toMatchObject({ done: 3, cached: 3 });
    expect(await cacheEntries()).toBe(3);
  });

  it("pays again when asked to (--no-cache), when settings differ, and for a changed object only", async () => {
    const forced = await runToEnd(await createRun({ cache: false }));
    expect(forced.paid).toBe(3);
    expect(forced.run.cached).toBe(0);

    const lowDetail = await runToEnd(await createRun({ detail: "low" }));
    expect(lowDetail.paid).toBe(3);
    const otherTask = await runToEnd(
      await createRun({ task: "classify", taskOptions: JSON.stringify({ labels: ["sun", "sea"] }) }),
    );
    expect(otherTask.paid).toBe(3);
    expect(await cacheEntries()).toBe(9);

    // A new version of one object (new ETag) is a new object: only it is paid for.
    await deps
      .storage(src())
      .put("img-1.png", await makeScene({ width: 161, height: 100, background: COLORS.blue }), {
        contentType: "image/png",
      });
    const afterChange = await runToEnd(await createRun());
    expect(afterChange.paid).toBe(1);
    expect(afterChange.run).toMatchObject({ done: 3, cached: 2 });
    expect(afterChange.lines.find((l) => l.key === "img-1.png")).toMatchObject({ status: "done" });
    expect(afterChange.lines.find((l) => l.key === "img-1.png")?.cached).toBeUndefined();
  });

  it("a crash between the run's copy and the cache entry: the retry records it and fills the cache", async () => {
    const first = await createRun({ detail: "low", convert: "skip" });
    const [payload] = await payloads(first);
    const before = emulator.stats.byRouteAndStatus.generateContent[200] ?? 0;
    expect(await annotateLeased(deps, payload!, { number: 1, max: 3 })).toEqual(["done"]);
    // Undo what came after the run's own copy: the cache entry and the recorded outcome.
    const entries: string[] = [];
    for await (const entry of deps.storage(out()).list({ prefix: cacheFiles.folder }))
      entries.push(entry.key);
    const run = await runs.require(first.runId);
    const written = JSON.parse(
      (await deps.storage(out()).get(runFiles.annotation(first.runId, payload!.images[0]!.key))).toString(
        "utf8",
      ),
    ) as { configHash: string };
    const mine = cacheKey(
      run,
      written.configHash,
      deps.storage(src()).describe(payload!.images[0]!.key),
      payload!.images[0]!.etag,
    );
    expect(entries).toContain(mine);
    await deps.storage(out()).delete(mine);
    await redisEnv.redis.hdel(runs.keys.items(first.runId), payload!.images[0]!.key);
    await redisEnv.redis.hincrby(runs.keys.run(first.runId), "done", -1);

    expect(await annotateLeased(deps, payload!, { number: 2, max: 3 })).toEqual(["done"]);
    expect((await runs.itemOutcome(first.runId, payload!.images[0]!.key))?.tokens).toBeDefined();
    expect(await deps.storage(out()).head(mine)).toBeDefined();
    const second = await createRun({ detail: "low", convert: "skip" });
    expect(await annotateLeased(deps, { ...payload!, runId: second.runId }, { number: 1, max: 3 })).toEqual([
      "done",
    ]);
    expect((await runs.itemOutcome(second.runId, payload!.images[0]!.key))?.cached).toBe(true);
    expect((emulator.stats.byRouteAndStatus.generateContent[200] ?? 0) - before).toBe(1);
  });

  it("ignores a cache entry that is not a valid annotation of that object, and pays", async () => {
    const first = await createRun({ detail: "original" });
    const [payload] = await payloads(first);
    await annotateLeased(deps, payload!, { number: 1, max: 1 });
    // Corrupt every entry of the "original" settings: a run must not trust them.
    for await (const entry of deps.storage(out()).list({ prefix: cacheFiles.folder })) {
      const text = (await deps.storage(out()).get(entry.key)).toString("utf8");
      if (text.includes('"detail": "original"')) {
        await deps.storage(out()).put(entry.key, "{ not json", { contentType: "application/json" });
      }
    }
    const second = await createRun({ detail: "original" });
    const before = emulator.stats.byRouteAndStatus.generateContent[200] ?? 0;
    expect(await annotateLeased(deps, { ...payload!, runId: second.runId }, { number: 1, max: 1 })).toEqual([
      "done",
    ]);
    expect((emulator.stats.byRouteAndStatus.generateContent[200] ?? 0) - before).toBe(1);
    expect((await runs.itemOutcome(second.runId, payload!.images[0]!.key))?.cached).toBeUndefined();
  });
});

describe("per-image lease", () => {
  const slowDeps = (leases: boolean): WorkerDeps => {
    const { leases: _, ...rest } = deps;
    return {
      ...rest,
      gemini: createGeminiClient({ apiKey: "lease-test", baseUrl: slowEmulator.url, timeoutMs: 10_000 }),
      ...(leases ? { leases: deps.leases! } : {}),
    };
  };
  const paidBySlow = () => slowEmulator.stats.byRouteAndStatus.generateContent[200] ?? 0;

  it("two concurrent attempts on one image: one pays, the other backs off and then finds the outcome", async () => {
    const config = await createRun({ cache: false });
    const [payload] = await payloads(config);
    const before = paidBySlow();
    const results = await Promise.allSettled([
      annotateLeased(slowDeps(true), payload!, { number: 1, max: 3 }),
      annotateLeased(slowDeps(true), payload!, { number: 1, max: 3 }),
    ]);
    expect(paidBySlow() - before).toBe(1);
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r) => r.status === "rejected");
    expect(fulfilled.map((r) => r.value)).toEqual([["done"]]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(LeaseHeld);
    // The lease was released: the retry takes it and finds the recorded outcome.
    expect(await annotateLeased(slowDeps(true), payload!, { number: 2, max: 3 })).toEqual([
      "already-recorded",
    ]);
    expect(paidBySlow() - before).toBe(1);
  });

  it("without leases the same race pays twice (what the lease prevents)", async () => {
    const config = await createRun({ cache: false });
    const [payload] = await payloads(config);
    const before = paidBySlow();
    await Promise.all([
      annotateLeased(slowDeps(false), payload!, { number: 1, max: 3 }),
      annotateLeased(slowDeps(false), payload!, { number: 1, max: 3 }),
    ]);
    expect(paidBySlow() - before).toBe(2);
  });

  it("a job enqueued twice and run by two workers at once is paid once; both jobs complete", async () => {
    const config = await createRun({ cache: false });
    const [payload] = await payloads(config);
    const before = paidBySlow();
    const workers = await Promise.all(
      [0, 1].map(() =>
        startWorker(slowDeps(true), { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 }),
      ),
    );
    try {
      await producer.addBulk("annotate", [
        { jobId: `${config.runId}-a`, payload: payload! },
        { jobId: `${config.runId}-b`, payload: payload! },
      ]);
      await runs.markScanned(config.runId, 1);
      const queue = producer.queue("annotate");
      const deadline = Date.now() + 20_000;
      for (;;) {
        const states = await Promise.all(
          [`${config.runId}-a`, `${config.runId}-b`].map((id) => queue.getJobState(id)),
        );
        if (states.every((s) => s === "completed")) break;
        if (Date.now() > deadline) throw new Error(`jobs still ${states.join(", ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(paidBySlow() - before).toBe(1);
      expect(await runs.require(config.runId)).toMatchObject({ done: 1, failed: 0 });
      const attempts = await Promise.all(
        [`${config.runId}-a`, `${config.runId}-b`].map(async (id) => (await queue.getJob(id))!.attemptsMade),
      );
      // Backing off from a held lease is not a failed attempt.
      expect(attempts.every((n) => n <= 1)).toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});
