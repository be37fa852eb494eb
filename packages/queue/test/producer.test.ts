import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestPrefix } from "@tessera/testing";
import { bullPrefix, EVENT_STREAM_MAX_LEN, Producer } from "../src/index.ts";

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;

beforeAll(async () => {
  redisEnv = await useTestPrefix("producer");
});

afterAll(async () => {
  await redisEnv?.cleanup();
});

describe("Producer", () => {
  it("caps each queue's BullMQ event stream, which Tessera never reads, well below BullMQ's 10,000", async () => {
    const producer = new Producer(redisEnv.redis, redisEnv.prefix);
    try {
      const jobs = 3 * EVENT_STREAM_MAX_LEN;
      const items = Array.from({ length: jobs }, (_, i) => ({
        jobId: `cap-${i}`,
        payload: { runId: `run-${i}` },
      }));
      for (let i = 0; i < items.length; i += 500)
        await producer.addBulk("finalize-run", items.slice(i, i + 500));
      const base = `${bullPrefix(redisEnv.prefix)}:runs`;
      expect(await redisEnv.redis.hget(`${base}:meta`, "opts.maxLenEvents")).toBe(
        String(EVENT_STREAM_MAX_LEN),
      );
      expect(await redisEnv.redis.llen(`${base}:wait`)).toBe(jobs);
      // XADD MAXLEN ~ trims whole stream nodes (100 entries each), so a little over the cap stays.
      const length = await redisEnv.redis.xlen(`${base}:events`);
      expect(length).toBeGreaterThanOrEqual(EVENT_STREAM_MAX_LEN);
      expect(length).toBeLessThan(EVENT_STREAM_MAX_LEN + 200);
    } finally {
      await producer.close();
    }
  });
});
