// Storage that turns hostile mid-run, on the real S3 server (each test creates and deletes its
// own buckets): one object the worker may not read, the source bucket deleted, the output bucket
// deleted or made read-only. Each ends with a clear reason per image or for the run, counters
// equal to the recorded outcomes, and no image paid for twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManifestLine } from "@tessera/core";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import type { Producer, RunStore } from "@tessera/queue";
import { enqueueFinalize, type RunState } from "@tessera/queue";
import {
  clearBucketPolicy,
  denyOnBucket,
  COLORS,
  makeScene,
  useTestBucket,
  useTestPrefix,
  type TestBucket,
} from "@tessera/testing";
import { runFiles, startWorker, type WorkerDeps } from "../src/index.ts";
import { testQueues, testRunConfig, testWorkerDeps } from "./support.ts";

const IMAGES = 8;

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let emulator: Emulator;
let runs: RunStore;
let producer: Producer;
let counter = 0;
const buckets: TestBucket[] = [];

beforeAll(async () => {
  redisEnv = await useTestPrefix("vanish");
  // Slow answers and one image at a time: the test acts while the run is surely half done.
  emulator = await startEmulator({ port: 0, latencyMs: 250 });
  ({ runs, producer } = testQueues(redisEnv.redis, redisEnv.prefix));
});

afterAll(async () => {
  await producer?.close();
  await emulator?.close();
  await redisEnv?.cleanup();
  for (const bucket of buckets) await bucket.cleanup();
});

async function newBucket(): Promise<TestBucket> {
  const bucket = await useTestBucket();
  buckets.push(bucket);
  return bucket;
}

function depsFor(bucket: TestBucket): WorkerDeps {
  return testWorkerDeps({
    runs,
    producer,
    redis: redisEnv.redis,
    prefix: redisEnv.prefix,
    s3: bucket.config,
    geminiUrl: emulator.url,
  });
}

async function fillSource(bucket: TestBucket): Promise<void> {
  for (let i = 0; i < IMAGES; i++) {
    const background = [COLORS.red, COLORS.blue, COLORS.green, COLORS.yellow][i % 4]!;
    await bucket
      .storage("src/")
      .put(`img-${i}.png`, await makeScene({ width: 100 + i, height: 80, background }), {
        contentType: "image/png",
      });
  }
}

/** A run listed and enqueued (as ingest leaves it), then worked on by one worker while `act` runs. */
async function runWhile(
  source: TestBucket,
  out: TestBucket,
  act: (runId: string) => Promise<void>,
): Promise<{ run: RunState; items: ManifestLine[]; paid: number }> {
  const deps = depsFor(source);
  const config = testRunConfig(
    `vanish${++counter}`,
    `s3://${source.bucket}/src/`,
    `s3://${out.bucket}/out/`,
    { transport: "inline" },
  );
  await runs.create(config);
  const jobs = [];
  for await (const object of deps.storage(config.source).list()) {
    const payload = {
      runId: config.runId,
      images: [{ key: object.key, etag: object.etag, size: object.size, mime: "image/png" }],
    };
    jobs.push({ jobId: `${config.runId}-${jobs.length}`, payload });
  }
  await producer.addBulk("annotate", jobs);
  if ((await runs.markScanned(config.runId, jobs.length)) === "completed-run") {
    await enqueueFinalize(runs, producer, config.runId);
  }
  const before = emulator.stats.byRouteAndStatus.generateContent[200] ?? 0;
  const worker = await startWorker(deps, {
    connection: redisEnv.redis,
    prefix: redisEnv.prefix,
    concurrency: 1,
  });
  try {
    await act(config.runId);
    const deadline = Date.now() + 45_000;
    let run = await runs.require(config.runId);
    while (!["completed", "failed", "cancelled"].includes(run.status)) {
      if (Date.now() > deadline) throw new Error(`run still ${run.status}: ${JSON.stringify(run)}`);
      await new Promise((r) => setTimeout(r, 100));
      run = await runs.require(config.runId);
    }
    const items: ManifestLine[] = [];
    for await (const line of runs.items(config.runId)) items.push(line);
    return { run, items, paid: (emulator.stats.byRouteAndStatus.generateContent[200] ?? 0) - before };
  } finally {
    await worker.close();
  }
}

async function untilDone(runId: string, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await runs.require(runId)).done < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} images done`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The run's counters equal a count over its recorded outcomes, and every image has exactly one. */
function expectCountersMatch(run: RunState, items: ManifestLine[]): void {
  const count = (status: string, errorClass?: string) =>
    items.filter((l) => l.status === status && (errorClass === undefined || l.error?.class === errorClass))
      .length;
  expect(new Set(items.map((l) => l.key)).size).toBe(IMAGES);
  expect(items).toHaveLength(IMAGES);
  expect({
    done: run.done,
    failed: run.failed,
    blocked: run.blocked,
    cancelled: run.cancelled,
    skipped: run.skipped,
  }).toEqual({
    done: count("done"),
    failed: count("failed"),
    blocked: count("blocked"),
    cancelled: count("skipped", "cancelled"),
    skipped: count("skipped"),
  });
}

describe("storage that turns hostile mid-run", () => {
  it("access denied on one object: that image fails at once with the reason, the rest are done", async () => {
    const bucket = await newBucket();
    await fillSource(bucket);
    const { run, items, paid } = await runWhile(bucket, bucket, async () => {
      await denyOnBucket(bucket, ["s3:GetObject"], "src/img-3.png");
    });
    await clearBucketPolicy(bucket);
    expect(run.status).toBe("completed");
    expectCountersMatch(run, items);
    const denied = items.find((l) => l.key === "img-3.png")!;
    expect(denied).toMatchObject({ status: "failed", attempts: 1, error: { class: "permanent" } });
    expect(denied.error!.message).toMatch(/img-3\.png: access denied/);
    expect(run.done).toBe(IMAGES - 1);
    expect(paid).toBe(IMAGES - 1);
    const manifest = (await bucket.storage("out/").get(runFiles.manifest(run.runId))).toString("utf8");
    expect(manifest.trim().split("\n")).toHaveLength(IMAGES);
  });

  it("the source bucket deleted mid-run: the rest fail with a clear reason, the run completes", async () => {
    const source = await newBucket();
    const out = await newBucket();
    await fillSource(source);
    const { run, items, paid } = await runWhile(source, out, async (runId) => {
      await untilDone(runId, 2);
      await source.cleanup();
    });
    expect(run.status).toBe("completed");
    expectCountersMatch(run, items);
    expect(run.done).toBeGreaterThanOrEqual(2);
    expect(run.done).toBeLessThan(IMAGES);
    for (const line of items.filter((l) => l.status === "failed")) {
      expect(line.error!.message).toMatch(/the bucket does not exist|deleted since the run listed it/);
    }
    expect(paid).toBe(run.done);
    const manifest = (await out.storage("out/").get(runFiles.manifest(run.runId))).toString("utf8");
    expect(manifest.trim().split("\n")).toHaveLength(IMAGES);
  });

  it("the output bucket deleted mid-run: the run halts and fails saying why, outcomes stay in Redis", async () => {
    const source = await newBucket();
    const out = await newBucket();
    await fillSource(source);
    const { run, items, paid } = await runWhile(source, out, async (runId) => {
      await untilDone(runId, 2);
      await out.cleanup();
    });
    expect(run.status).toBe("failed");
    expect(run.statusReason).toMatch(/the bucket does not exist/);
    expect(run.statusReason).toMatch(/every outcome is kept in Redis/);
    expectCountersMatch(run, items);
    expect(run.done).toBeGreaterThanOrEqual(2);
    // The image in flight when the bucket went may have been paid for; nothing after it.
    expect(paid).toBeLessThanOrEqual(run.done + 1);
    expect(run.failed).toBeGreaterThanOrEqual(1);
    expect(run.done + run.failed + run.cancelled).toBe(IMAGES);
  });

  it("the output made read-only mid-run: one image fails, the run halts and fails, nothing is paid twice", async () => {
    const source = await newBucket();
    const out = await newBucket();
    await fillSource(source);
    const { run, items, paid } = await runWhile(source, out, async (runId) => {
      await untilDone(runId, 2);
      await denyOnBucket(out, ["s3:PutObject"], "*");
    });
    await clearBucketPolicy(out);
    expect(run.status).toBe("failed");
    expect(run.statusReason).toMatch(/cannot be used: .*access denied/);
    expectCountersMatch(run, items);
    const failed = items.filter((l) => l.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error!.message).toMatch(/access denied/);
    expect(paid).toBe(run.done + 1);
    expect(run.cancelled).toBe(IMAGES - run.done - 1);
    for (const line of items.filter((l) => l.status === "skipped")) {
      expect(line.error!.message).toMatch(/^not sent: the run was halted \(the output s3:\/\//);
    }
  });
});
