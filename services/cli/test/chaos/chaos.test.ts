import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestLineSchema, type ManifestLine } from "@tessera/core";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { RunStore, type RunState } from "@tessera/queue";
import { COLORS, makeScene, useTestBucket, type TestBucket } from "@tessera/testing";
import { freePort } from "../../src/local-redis.ts";
import { exitOf, tessera, tesseraProcess } from "../cli.ts";

// Crash safety, end to end: worker processes killed with SIGKILL mid-request, Redis killed and
// restarted from its AOF, the S3 gateway restarted, and an emulator answering 20 % 429s, 5 % 5xx,
// 3 % truncated and 1 % blocked answers with latency. At the end every image must appear exactly
// once in the manifest, counters must equal the manifest, no annotation may be duplicated, and
// Gemini must not have been paid for more than the crashes can account for.

const IMAGES = 40;
const WORKERS = 3;
const CONCURRENCY = 3;
const RGW = fileURLToPath(new URL("../../../../infra/s3/rgw.sh", import.meta.url));

let bucket: TestBucket;
let emulator: Emulator;
let redisDir: string;
let redisPort: number;
let redis: ChildProcess | undefined;

/** A Redis of this test's own (it is killed and restarted), with every write in its AOF. */
async function startRedis(): Promise<void> {
  redis = spawn(
    "redis-server",
    [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--dir",
      redisDir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: "ignore" },
  );
  const probe = new Redis(redisPort, "127.0.0.1", {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on("error", () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("redis-server did not start");
}

async function killRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null) return;
  const exited = exitOf(child);
  child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  redisDir = await mkdtemp(join(tmpdir(), "tessera-chaos-redis-"));
  redisPort = await freePort();
  await startRedis();
  bucket = await useTestBucket();
  emulator = await startEmulator({
    port: 0,
    seed: 7,
    latencyMs: { min: 30, max: 200 },
    faults: {
      rates: { "429": 0.2, "503": 0.03, "500": 0.02, truncate: 0.03, block: 0.01 },
      retryDelaySeconds: 0.3,
    },
  });
  const data = bucket.storage("chaos");
  for (let i = 0; i < IMAGES; i++) {
    const bytes = await makeScene({
      width: 200 + i * 7,
      height: 150,
      background: i % 2 ? COLORS.red : COLORS.green,
      format: "jpeg",
    });
    await data.put(`img-${String(i).padStart(3, "0")}.jpg`, bytes, { contentType: "image/jpeg" });
  }
});

afterAll(async () => {
  await emulator?.close();
  await bucket?.cleanup();
  await killRedis();
  await rm(redisDir, { recursive: true, force: true });
});

describe("chaos", () => {
  it(
    "loses nothing and pays at most once per image plus what crashes explain",
    { timeout: 300_000 },
    async () => {
      const env = {
        ...process.env,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        TESSERA_PREFIX: "chaos",
        GOOGLE_GEMINI_BASE_URL: emulator.url,
        GEMINI_API_KEY: "chaos-test",
        GEMINI_TIER: "unlimited",
        TESSERA_ATTEMPTS: "12",
        TESSERA_JOB_LOCK_MS: "3000",
        TESSERA_CONCURRENCY: String(CONCURRENCY),
        LOG_LEVEL: "error",
      };
      const source = `s3://${bucket.bucket}/chaos`;
      const out = `s3://${bucket.bucket}/chaos-out`;
      const started = await tessera(["run", source, "--out", out, "--json"], env);
      expect(started.code, started.stderr).toBe(0);
      const { runId } = JSON.parse(started.stdout) as { runId: string };

      const workers = Array.from({ length: WORKERS }, () => tesseraProcess(["worker"], env));
      const chaos = { workerKills: 0, redisRestarts: 0, s3Restarts: 0 };
      const watcher = new Redis(redisPort, "127.0.0.1", {
        maxRetriesPerRequest: null,
        retryStrategy: () => 100,
      });
      watcher.on("error", () => undefined);
      const runs = new RunStore(watcher, "chaos");
      const settled = async () => {
        const run = await runs.require(runId);
        return run.done + run.failed + run.blocked;
      };
      const waitForProgress = async (atLeast: number) => {
        const deadline = Date.now() + 60_000;
        while ((await settled()) < atLeast && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
      };

      try {
        // Kill a worker mid-run three times, each time replacing it.
        for (const [i, threshold] of [4, 10, 16].entries()) {
          await waitForProgress(threshold);
          const victim = workers[i % WORKERS]!;
          victim.child.kill("SIGKILL");
          await exitOf(victim.child);
          chaos.workerKills++;
          workers[i % WORKERS] = tesseraProcess(["worker"], env);
        }
        // Crash Redis (SIGKILL) and bring it back from its append-only file.
        await waitForProgress(20);
        await killRedis();
        await new Promise((r) => setTimeout(r, 500));
        await startRedis();
        chaos.redisRestarts++;
        // Restart the S3 gateway (objects survive in the OSD).
        await waitForProgress(26);
        const restart = spawnSync("bash", [RGW, "restart-gateway"], { encoding: "utf8" });
        expect(restart.status, restart.stderr).toBe(0);
        chaos.s3Restarts++;

        let run: RunState | undefined;
        const deadline = Date.now() + 180_000;
        for (;;) {
          run = await runs.require(runId);
          if (["completed", "failed", "cancelled"].includes(run.status)) break;
          if (Date.now() > deadline) throw new Error(`run still ${run.status}: ${JSON.stringify(run)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(run.status).toBe("completed");

        // Every image exactly once in the manifest, with a final outcome.
        const output = bucket.storage(`chaos-out/${runId}`);
        const lines: ManifestLine[] = (await output.get("manifest.jsonl"))
          .toString("utf8")
          .trim()
          .split("\n")
          .map((l) => manifestLineSchema.parse(JSON.parse(l)));
        const keys = lines.map((l) => l.key);
        expect(new Set(keys).size).toBe(IMAGES);
        expect(keys).toHaveLength(IMAGES);
        const count = (status: string) => lines.filter((l) => l.status === status).length;
        expect({ done: run.done, failed: run.failed, blocked: run.blocked, skipped: run.skipped }).toEqual({
          done: count("done"),
          failed: count("failed"),
          blocked: count("blocked"),
          skipped: count("skipped"),
        });
        expect(run.done + run.failed + run.blocked).toBe(IMAGES);

        // One annotation object per done image, no strays.
        const annotations: string[] = [];
        for await (const o of output.list({ prefix: "annotations/" })) annotations.push(o.key);
        expect(annotations.sort()).toEqual(
          lines
            .filter((l) => l.status === "done")
            .map((l) => `annotations/${l.key}.json`)
            .sort(),
        );

        // Paid calls: one per done image, plus at most one per request in flight at each crash.
        const paid = emulator.stats.byRouteAndStatus.generateContent[200] ?? 0;
        const inFlightAtCrashes =
          (chaos.workerKills + chaos.redisRestarts * WORKERS + chaos.s3Restarts * WORKERS) * CONCURRENCY;
        const figures = {
          images: IMAGES,
          done: run.done,
          failed: run.failed,
          blocked: run.blocked,
          paidCalls: paid,
          extraPaidCalls: paid - run.done,
          allowance: inFlightAtCrashes,
          status429: emulator.stats.byRouteAndStatus.generateContent[429] ?? 0,
          status5xx:
            (emulator.stats.byRouteAndStatus.generateContent[500] ?? 0) +
            (emulator.stats.byRouteAndStatus.generateContent[503] ?? 0),
          ...chaos,
        };
        expect(paid).toBeGreaterThanOrEqual(run.done);
        expect(paid - run.done).toBeLessThanOrEqual(inFlightAtCrashes);

        // The same run again, after all that: every image done above comes from the annotation
        // cache (crashes included), and only the others are sent.
        const again = await tessera(["run", source, "--out", out, "--wait", "--json"], env, 180_000);
        expect(again.code, again.stderr).toBe(0);
        const rerun = JSON.parse(again.stdout) as RunState;
        const rerunPaid = (emulator.stats.byRouteAndStatus.generateContent[200] ?? 0) - paid;
        console.info(
          `chaos figures: ${JSON.stringify({ ...figures, rerunCached: rerun.cached, rerunDone: rerun.done, rerunPaidCalls: rerunPaid })}`,
        );
        expect(rerun.cached).toBe(run.done);
        expect(rerun.done + rerun.failed + rerun.blocked).toBe(IMAGES);
      } finally {
        for (const w of workers) w.child.kill("SIGTERM");
        await Promise.all(workers.map((w) => exitOf(w.child)));
        watcher.disconnect();
      }
    },
  );
});
