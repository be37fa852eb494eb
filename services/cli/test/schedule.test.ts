import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { manifestLineSchema, type ManifestLine } from "@tessera/core";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import {
  COLORS,
  makeScene,
  TEST_REDIS_URL,
  useTestBucket,
  useTestPrefix,
  type TestBucket,
} from "@tessera/testing";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

// Scheduled incremental runs end to end: real Redis, the real S3 server, the emulator over HTTP,
// two `tessera scheduler` processes and a `tessera worker`, a cron firing every second.
let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let env: NodeJS.ProcessEnv;
/** A plain client reading the Redis contract (docs/redis.md) the way a back-office tool would. */
let plain: Redis;
const children: { child: ChildProcess; output(): string }[] = [];

function start(args: string[]) {
  const proc = tesseraProcess(args, { ...env, LOG_LEVEL: "info" });
  children.push(proc);
  return proc;
}

async function stop(proc: { child: ChildProcess }): Promise<void> {
  proc.child.kill("SIGTERM");
  await exitOf(proc.child);
}

async function image(color: keyof typeof COLORS, width: number): Promise<Buffer> {
  return makeScene({ width, height: 40, background: COLORS[color] });
}

const hash = (key: string) => plain.hgetall(key);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The newest completed run of the schedule that satisfies `accept`. */
function completedRun(id: string, accept: (run: Record<string, string>) => boolean) {
  const p = redisEnv.prefix;
  return until(`a completed run of ${id}`, async () => {
    for (const runId of await plain.zrevrange(`${p}:schedule:${id}:runs`, 0, -1)) {
      const run = await hash(`${p}:run:${runId}`);
      if (run.status === "completed" && accept(run)) return run;
    }
    return undefined;
  });
}

async function manifest(runId: string): Promise<ManifestLine[]> {
  const body = (await bucket.storage("out").get(`${runId}/manifest.jsonl`)).toString("utf8");
  return body
    .trim()
    .split("\n")
    .map((l) => manifestLineSchema.parse(JSON.parse(l)));
}

beforeAll(async () => {
  redisEnv = await useTestPrefix("schedule");
  bucket = await useTestBucket();
  emulator = await startEmulator({ port: 0 });
  plain = new Redis(TEST_REDIS_URL);
  env = {
    ...process.env,
    TESSERA_PREFIX: redisEnv.prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: "schedule-test-key",
    LOG_LEVEL: "warn",
  };
  const src = bucket.storage("src");
  await src.put("a.png", await image("red", 40), { contentType: "image/png" });
  await src.put("b.png", await image("green", 41), { contentType: "image/png" });
  await src.put("c.png", await image("blue", 42), { contentType: "image/png" });
  await src.put("notes.txt", "not an image", { contentType: "text/plain" });
});

afterAll(async () => {
  for (const proc of children) if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
  await emulator?.close();
  await bucket?.cleanup();
  plain?.disconnect();
  await redisEnv?.cleanup();
});

describe("tessera schedule", () => {
  it("refuses a bad cron pattern or time zone, naming it, and stores nothing", async () => {
    const src = `s3://${bucket.bucket}/src`;
    const out = `s3://${bucket.bucket}/out`;
    const bad = await tessera(["schedule", "add", src, "--out", out, "--cron", "61 * * * *"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--cron "61 \* \* \* \*"/);
    const tz = await tessera(
      ["schedule", "add", src, "--out", out, "--cron", "0 3 * * *", "--tz", "Mars/Olympus"],
      env,
    );
    expect(tz.code).toBe(2);
    expect(tz.stderr).toMatch(/unknown time zone "Mars\/Olympus"/);
    expect(await plain.zcard(`${redisEnv.prefix}:schedules`)).toBe(0);
  });

  it("fires every second, once per firing across two schedulers, and annotates only new or changed images", async () => {
    const p = redisEnv.prefix;
    const worker = start(["worker", "--concurrency", "4"]);
    const schedulers = [start(["scheduler"]), start(["scheduler"])];
    const added = await tessera(
      [
        "schedule",
        "add",
        `s3://${bucket.bucket}/src`,
        "--out",
        `s3://${bucket.bucket}/out`,
        "--cron",
        "* * * * * *",
        "--tz",
        "Europe/Paris",
        "--id",
        "every-second",
        "--task",
        "caption",
        "--json",
      ],
      env,
    );
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);

    // The first run has no baseline: every image is sent.
    const first = await completedRun("every-second", () => true);
    expect(first).toMatchObject({ scheduleId: "every-second", done: "3", unchanged: "0", skipped: "1" });
    expect(first.baseRunId).toBeUndefined();

    // One image changes, one is added: the next run sends those two only.
    const src = bucket.storage("src");
    await src.put("b.png", await image("yellow", 41), { contentType: "image/png" });
    await src.put("d.png", await image("white", 43), { contentType: "image/png" });
    const second = await completedRun("every-second", (run) => run.done === "2");
    expect(second).toMatchObject({ baseRunId: first.runId, done: "2", unchanged: "2", failed: "0" });
    const lines = await manifest(second.runId!);
    expect(lines.map((l) => [l.key, l.status])).toEqual([
      ["a.png", "unchanged"],
      ["b.png", "done"],
      ["c.png", "unchanged"],
      ["d.png", "done"],
      ["notes.txt", "skipped"],
    ]);
    const a = lines.find((l) => l.key === "a.png")!;
    expect(a).toMatchObject({
      previousRunId: first.runId,
      annotationKey: `${first.runId}/annotations/a.png.json`,
    });
    // The annotation an unchanged line points at exists.
    expect((await bucket.storage("out").get(a.annotationKey!)).length).toBeGreaterThan(0);

    // The contract, read with a plain client, agrees with the manifest.
    const counts = { done: 0, failed: 0, blocked: 0, skipped: 0, unchanged: 0 };
    for (const line of lines) counts[line.status]++;
    const run = await hash(`${p}:run:${second.runId}`);
    for (const [status, n] of Object.entries(counts)) expect(Number(run[status])).toBe(n);
    expect(run.v).toBe("2");
    expect(Number(run.objects)).toBe(lines.length);
    const items = await plain.hgetall(`${p}:run:${second.runId}:items`);
    expect(Object.keys(items).sort()).toEqual(lines.map((l) => l.key));
    const schedule = await hash(`${p}:schedule:every-second`);
    expect(schedule).toMatchObject({
      id: "every-second",
      cron: "* * * * * *",
      tz: "Europe/Paris",
      paused: "0",
    });
    expect(await plain.zscore(`${p}:schedules`, "every-second")).not.toBeNull();

    // Pause: no more firings. Both schedulers saw every firing at most once between them.
    expect((await tessera(["schedule", "pause", "every-second"], env)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const runsWhenPaused = await plain.zcard(`${p}:schedule:every-second:runs`);
    const firingsWhenPaused = Number((await hash(`${p}:schedule:every-second`)).firings);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await plain.zcard(`${p}:schedule:every-second:runs`)).toBe(runsWhenPaused);
    expect(Number((await hash(`${p}:schedule:every-second`)).firings)).toBe(firingsWhenPaused);

    // A firing BullMQ had already queued when the pause landed is still delivered, and logged,
    // but starts nothing and is not counted: only the firings of the active schedule are.
    const fired = schedulers.flatMap((s) =>
      s
        .output()
        .split("\n")
        .filter((l) => l.includes('"schedule fired"'))
        .map((l) => JSON.parse(l) as { jobId: string; reason?: string })
        .filter((l) => l.reason !== "the schedule is paused")
        .map((l) => l.jobId),
    );
    expect(fired.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fired).size).toBe(fired.length);
    expect(fired.length).toBe(firingsWhenPaused);
    // Each run's id is its firing time: the history holds one run per firing time.
    const history = await plain.zrange(`${p}:schedule:every-second:runs`, 0, -1, "WITHSCORES");
    const scores = history.filter((_, i) => i % 2 === 1);
    expect(new Set(scores).size).toBe(scores.length);

    // The schedule lives in Redis: fresh scheduler processes pick it up after a restart.
    await Promise.all(schedulers.map(stop));
    const fresh = start(["scheduler"]);
    expect((await tessera(["schedule", "resume", "every-second"], env)).code).toBe(0);
    await until("a firing after the restart", async () =>
      (await plain.zcard(`${p}:schedule:every-second:runs`)) > runsWhenPaused ? true : undefined,
    );
    const listed = await tessera(["schedule", "list", "--json"], env);
    const [row] = JSON.parse(listed.stdout) as { id: string; paused: boolean; lastRunId: string }[];
    expect(row).toMatchObject({ id: "every-second", paused: false });

    expect((await tessera(["schedule", "remove", "every-second"], env)).code).toBe(0);
    expect(await plain.exists(`${p}:schedule:every-second`)).toBe(0);
    expect((await tessera(["schedule", "pause", "every-second"], env)).stderr).toMatch(
      /no schedule "every-second"/,
    );
    await Promise.all([stop(fresh), stop(worker)]);
  }, 120_000);
});
