import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestPrefix } from "@tessera/testing";
import { Producer, ScheduleStore } from "../src/index.ts";

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let producer: Producer;
let store: ScheduleStore;

beforeAll(async () => {
  redisEnv = await useTestPrefix("schedules");
  producer = new Producer(redisEnv.redis, redisEnv.prefix);
  store = new ScheduleStore(redisEnv.redis, redisEnv.prefix, producer.queue("schedules"));
});

afterAll(async () => {
  await producer?.close();
  await redisEnv?.cleanup();
});

const spec = (id: string) => ({
  id,
  source: "s3://b/in",
  out: "s3://b/out",
  cron: "0 3 * * *",
  tz: "Europe/Paris",
  task: "caption",
  request: "{}",
  createdAt: "2026-12-04T10:00:00.000Z",
});

describe("ScheduleStore", () => {
  it("keeps a BullMQ job scheduler in step with pause, resume and remove", async () => {
    await store.add(spec("nightly"));
    await expect(store.add(spec("nightly"))).rejects.toThrow(/already exists/);
    const scheduler = await producer.queue("schedules").getJobScheduler("nightly");
    expect(scheduler).toMatchObject({ pattern: "0 3 * * *", tz: "Europe/Paris" });
    expect(await store.nextFiring("nightly")).toBeInstanceOf(Date);
    await store.pause("nightly");
    expect(await producer.queue("schedules").getJobScheduler("nightly")).toBeUndefined();
    expect((await store.require("nightly")).paused).toBe(true);
    await store.resume("nightly");
    expect(await producer.queue("schedules").getJobScheduler("nightly")).toMatchObject({
      pattern: "0 3 * * *",
    });
    await store.remove("nightly");
    expect(await store.get("nightly")).toBeUndefined();
    expect(await producer.queue("schedules").getJobScheduler("nightly")).toBeUndefined();
    await expect(store.pause("nightly")).rejects.toThrow(/no schedule "nightly"/);
  });

  it("claims one firing at a time: never while the previous run is starting or going", async () => {
    await store.add(spec("claims"));
    const at = new Date("2026-12-05T02:00:00.000Z");
    const now = new Date("2026-12-05T02:00:00.100Z");
    // Ten schedulers race for ten firings: one wins.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.claimFiring("claims", `r${i}`, at, now)),
    );
    const winners = results.filter((r) => r.busy === undefined);
    expect(winners).toHaveLength(1);
    const winner = (await store.require("claims")).lastRunId!;
    expect(results.filter((r) => r.busy === winner)).toHaveLength(9);
    // The same firing delivered again is still its own.
    expect(await store.claimFiring("claims", winner, at, now)).toEqual({});

    const run = `${redisEnv.prefix}:run:${winner}`;
    await redisEnv.redis.hset(run, "status", "running");
    expect(await store.claimFiring("claims", "next", at, now)).toEqual({ busy: winner });
    await redisEnv.redis.hset(run, "status", "completed");
    expect(await store.claimFiring("claims", "next", at, now)).toEqual({});
    expect(await store.history("claims")).toContain("next");

    // A claim whose run never appeared stops blocking after five minutes.
    expect(await store.claimFiring("claims", "later", at, new Date(now.getTime() + 60_000))).toEqual({
      busy: "next",
    });
    expect(await store.claimFiring("claims", "later", at, new Date(now.getTime() + 6 * 60_000))).toEqual({});

    // A claimed firing that starts nothing gives its claim back and says why.
    await store.recordSkip("claims", at, "could not start: bucket gone", "later");
    const state = await store.require("claims");
    expect(state.lastRunId).toBeUndefined();
    expect(state.lastSkipReason).toBe("could not start: bucket gone");
    expect(await store.history("claims")).not.toContain("later");
    expect(state.firings).toBe(3);
  });
});
