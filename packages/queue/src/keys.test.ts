import { describe, expect, it } from "vitest";
import { describeRedisUrl } from "./connection.ts";
import { bullPrefix, redisKeys } from "./keys.ts";

describe("redis keys", () => {
  it("namespaces every key under the prefix, BullMQ apart", () => {
    const keys = redisKeys("acme");
    expect([
      keys.runs,
      keys.run("r1"),
      keys.items("r1"),
      keys.events("r1"),
      keys.lease("r1", "cats/1.jpg"),
    ]).toEqual([
      "acme:runs",
      "acme:run:r1",
      "acme:run:r1:items",
      "acme:run:r1:events",
      "acme:lease:r1:cats/1.jpg",
    ]);
    expect([keys.schedules, keys.schedule("s1"), keys.scheduleRuns("s1")]).toEqual([
      "acme:schedules",
      "acme:schedule:s1",
      "acme:schedule:s1:runs",
    ]);
    expect(bullPrefix("acme")).toBe("acme:bull");
  });

  it("describes a Redis URL without its password", () => {
    expect(describeRedisUrl("redis://user:hunter2@cache.internal:6380/2")).toBe(
      "redis://cache.internal:6380/2",
    );
    expect(describeRedisUrl("not a url")).toBe("(unparseable REDIS_URL)");
  });
});
