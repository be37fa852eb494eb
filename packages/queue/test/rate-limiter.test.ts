import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestPrefix } from "@tessera/testing";
import { FleetRateLimiter, RequestTooLargeError, type ModelLimits } from "../src/index.ts";

let env: Awaited<ReturnType<typeof useTestPrefix>>;
beforeAll(async () => {
  env = await useTestPrefix("ratelimit");
});
afterAll(async () => {
  await env.cleanup();
});

/** A limiter on a clock the test moves; each test uses its own model name so windows never mix. */
function limiter(limits: ModelLimits) {
  const clock = { now: 1_000_000 };
  const l = new FleetRateLimiter(
    env.redis,
    env.prefix,
    () => limits,
    () => clock.now,
  );
  return { l, clock };
}

describe("FleetRateLimiter", () => {
  it("grants requests up to the RPM and says how long until the oldest frees up", async () => {
    const { l, clock } = limiter({ rpm: 3 });
    for (let i = 0; i < 3; i++) {
      expect((await l.acquire("m-rpm", 10)).ok).toBe(true);
      clock.now += 100;
    }
    const denied = await l.acquire("m-rpm", 10);
    expect(denied).toMatchObject({ ok: false, metric: "rpm" });
    // The first request (t = 1,000,000, bucket 1000) leaves the window once its bucket ends + 60 s.
    expect(denied.ok ? 0 : denied.waitMs).toBe(1_001_000 + 60_000 - clock.now);
    clock.now += denied.ok ? 0 : denied.waitMs - 1;
    expect((await l.acquire("m-rpm", 10)).ok).toBe(false);
    clock.now += 1;
    expect((await l.acquire("m-rpm", 10)).ok).toBe(true);
  });

  it("weighs requests by tokens against the TPM, and settles with the actual usage", async () => {
    const { l, clock } = limiter({ tpm: 1_000 });
    const first = await l.acquire("m-tpm", 600);
    expect(first.ok).toBe(true);
    expect(await l.acquire("m-tpm", 600)).toMatchObject({ ok: false, metric: "tpm" });
    // Gemini billed less than estimated: the difference is given back at once.
    if (first.ok) await l.settle(first.reservation, 300);
    expect((await l.acquire("m-tpm", 600)).ok).toBe(true);
    clock.now += 61_000;
    expect((await l.acquire("m-tpm", 1_000)).ok).toBe(true);
    await expect(l.acquire("m-tpm", 1_001)).rejects.toBeInstanceOf(RequestTooLargeError);
  });

  it("never lets more than the limit through in any sliding minute", async () => {
    const { l, clock } = limiter({ rpm: 20 });
    const granted: number[] = [];
    for (let step = 0; step < 600; step++) {
      const result = await l.acquire("m-slide", 1);
      if (result.ok) granted.push(clock.now);
      clock.now += 997; // off the bucket grid on purpose
    }
    for (const start of granted) {
      const inWindow = granted.filter((t) => t >= start && t < start + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(20);
    }
    // ...while still using most of it (one bucket of slack per window).
    expect(granted.length).toBeGreaterThanOrEqual(Math.floor((600 * 997) / 61_000) * 20 - 20);
  });

  it("applies the tightest of RPM, TPM and RPD, and leaves unlimited metrics alone", async () => {
    const { l, clock } = limiter({ rpm: 100, tpm: 1_000_000, rpd: 2 });
    expect((await l.acquire("m-rpd", 5)).ok).toBe(true);
    expect((await l.acquire("m-rpd", 5)).ok).toBe(true);
    const denied = await l.acquire("m-rpd", 5);
    expect(denied).toMatchObject({ ok: false, metric: "rpd" });
    clock.now += 86_400_000 + 60_000;
    expect((await l.acquire("m-rpd", 5)).ok).toBe(true);
    const open = limiter({});
    for (let i = 0; i < 50; i++) expect((await open.l.acquire("m-open", 1e6)).ok).toBe(true);
  });

  it("shares one budget between limiter instances (several workers)", async () => {
    const clock = { now: 5_000_000 };
    const a = new FleetRateLimiter(
      env.redis,
      env.prefix,
      () => ({ rpm: 4 }),
      () => clock.now,
    );
    const b = new FleetRateLimiter(
      env.redis,
      env.prefix,
      () => ({ rpm: 4 }),
      () => clock.now,
    );
    const results = await Promise.all([a, b, a, b, a, b].map((l) => l.acquire("m-shared", 1)));
    expect(results.filter((r) => r.ok)).toHaveLength(4);
  });
});
