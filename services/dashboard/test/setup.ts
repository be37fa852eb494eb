import { DEFAULT_PRICES } from "@tessera/config";
import { createLogger, newRunId } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { fireSchedule, startRun, type FiringOutcome } from "@tessera/ingest";
import { Producer, RunStore, ScheduleStore, type RunState } from "@tessera/queue";
import { storageCache } from "@tessera/storage";
import { COLORS, makeScene, useTestBucket, useTestPrefix, type TestBucket } from "@tessera/testing";
import { startWorker, type RunningWorker } from "@tessera/worker";
import { startDashboard, type DashboardOptions, type RunningDashboard } from "../src/index.ts";

export const TOKEN = "test-dashboard-token-0123456789";

/** Real Redis, S3, emulator, an in-process worker and the dashboard, for one test file. */
export interface Stack {
  prefix: string;
  bucket: TestBucket;
  runs: RunStore;
  producer: Producer;
  dashboard: RunningDashboard;
  schedules: ScheduleStore;
  /** One firing of a schedule, as `tessera scheduler` handles it. */
  fire(scheduleId: string): Promise<FiringOutcome>;
  startWorker(): Promise<RunningWorker>;
  /** `onCreated` runs once the run exists, before its images are enqueued. */
  startDetectRun(
    images: number,
    prefix: string,
    onCreated?: (runId: string) => Promise<void>,
    /** Adds a torn PNG, which fails with bad_image. */
    torn?: boolean,
  ): Promise<string>;
  until(runId: string, statuses: string[], timeoutMs?: number): Promise<RunState>;
  close(): Promise<void>;
}

export async function startStack(
  label: string,
  options: Partial<DashboardOptions> = {},
  emulatorLatencyMs = 0,
): Promise<Stack> {
  const redisEnv = await useTestPrefix(label);
  const bucket = await useTestBucket();
  const emulator: Emulator = await startEmulator({
    port: 0,
    ...(emulatorLatencyMs > 0 ? { latencyMs: emulatorLatencyMs } : {}),
  });
  const storage = storageCache(bucket.config);
  const runs = new RunStore(redisEnv.redis, redisEnv.prefix);
  const producer = new Producer(redisEnv.redis, redisEnv.prefix);
  const log = createLogger("silent");
  const now = () => new Date();
  const dashboard = await startDashboard(
    { redis: redisEnv.redis, prefix: redisEnv.prefix, producer, storage, log, now },
    { host: "127.0.0.1", port: 0, token: TOKEN, dev: false, actions: true, ...options },
  );
  const workers: RunningWorker[] = [];
  const schedules = new ScheduleStore(redisEnv.redis, redisEnv.prefix, producer.queue("schedules"));
  return {
    schedules,
    fire: (scheduleId) =>
      fireSchedule(
        { runs, producer, storage, log, now, schedules, prices: DEFAULT_PRICES },
        scheduleId,
        now(),
      ),
    prefix: redisEnv.prefix,
    bucket,
    runs,
    producer,
    dashboard,
    async startWorker() {
      const worker = await startWorker(
        {
          runs,
          producer,
          gemini: createGeminiClient({ apiKey: "k", baseUrl: emulator.url, timeoutMs: 10_000 }),
          storage,
          log,
          maxImageBytes: 5_000_000,
          maxSourceBytes: 50_000_000,
          prices: DEFAULT_PRICES,
          now,
        },
        { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 2 },
      );
      workers.push(worker);
      return worker;
    },
    async startDetectRun(count, prefix, onCreated, torn = false) {
      const src = bucket.storage(prefix);
      for (let i = 0; i < count; i++) {
        const scene = await makeScene({
          width: 160 + i * 8,
          height: 120,
          background: COLORS.white,
          boxes: [{ x: 20 + i * 4, y: 20, width: 60, height: 50, color: i % 2 ? COLORS.red : COLORS.blue }],
        });
        await src.put(`img-${String(i).padStart(2, "0")}.png`, scene, { contentType: "image/png" });
      }
      await src.put("readme.txt", "not an image", { contentType: "text/plain" });
      if (torn) {
        const whole = await makeScene({ width: 200, height: 150, background: COLORS.green });
        await src.put("torn.png", whole.subarray(0, Math.floor(whole.length / 2)), {
          contentType: "image/png",
        });
      }
      const runId = newRunId();
      const started = await startRun(
        { runs, producer, storage, log, now },
        {
          source: `s3://${bucket.bucket}/${prefix}`,
          out: `s3://${bucket.bucket}/out-${prefix}`,
          task: "detect",
          model: "gemini-2.5-flash",
          maxOutputTokens: 4096,
          detail: "standard",
          convert: "convert",
          prices: DEFAULT_PRICES,
          budget: { maxCostUsd: 5 },
          runId,
          ...(onCreated === undefined ? {} : { onCreated: () => onCreated(runId) }),
        },
      );
      return started.runId;
    },
    async until(runId, statuses, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await runs.require(runId);
        if (statuses.includes(run.status)) return run;
        if (Date.now() > deadline)
          throw new Error(`run ${runId} is ${run.status}, wanted ${statuses.join("|")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      for (const w of workers) await w.close();
      await dashboard.close();
      await producer.close();
      await emulator.close();
      await bucket.cleanup();
      await redisEnv.cleanup();
    },
  };
}
