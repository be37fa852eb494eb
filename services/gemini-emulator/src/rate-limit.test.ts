import { describe, expect, it } from "vitest";
import { manualClock } from "./files/clock.ts";
import type { Admission, RateLimitOptions } from "./rate-limit.ts";
import { RateLimiter } from "./rate-limit.ts";

const MODEL = "gemini-2.5-flash";
const SECOND = 1000;

function limiter(options: RateLimitOptions) {
  const clock = manualClock();
  return { clock, limits: new RateLimiter(options, clock) };
}

function refused(admission: Admission) {
  if (admission.admitted) throw new Error("expected a refusal");
  return admission;
}

describe("RateLimiter: requests per minute", () => {
  it("admits up to the limit, then says when the oldest request leaves the window", () => {
    const { clock, limits } = limiter({ all: { rpm: 3 } });
    expect(limits.admit("k", MODEL, 10).admitted).toBe(true);
    clock.advance(10 * SECOND);
    expect(limits.admit("k", MODEL, 10).admitted).toBe(true);
    clock.advance(10 * SECOND);
    expect(limits.admit("k", MODEL, 10).admitted).toBe(true);
    clock.advance(5 * SECOND);

    const refusal = refused(limits.admit("k", MODEL, 10));
    // The first request (t=0) leaves at t=60s; it is t=25s now.
    expect(refusal.violations).toEqual([{ kind: "rpm", limit: 3, retryDelayMs: 35 * SECOND }]);
    expect(refusal.retryDelayMs).toBe(35 * SECOND);

    clock.advance(35 * SECOND - 1);
    expect(limits.admit("k", MODEL, 10).admitted).toBe(false);
    clock.advance(1);
    expect(limits.admit("k", MODEL, 10).admitted).toBe(true);
  });

  it("does not count refused requests, and forgets a released admission", () => {
    const { clock, limits } = limiter({ all: { rpm: 1 } });
    const first = limits.admit("k", MODEL, 1);
    expect(first.admitted).toBe(true);
    for (let i = 0; i < 5; i += 1) expect(limits.admit("k", MODEL, 1).admitted).toBe(false);
    clock.advance(60 * SECOND);
    expect(limits.admit("k", MODEL, 1).admitted).toBe(true);

    const released = limiter({ all: { rpm: 1 } }).limits;
    const admission = released.admit("k", MODEL, 1);
    if (!admission.admitted) throw new Error("expected an admission");
    admission.release();
    expect(released.admit("k", MODEL, 1).admitted).toBe(true);
  });

  it("keeps separate windows per API key and per model", () => {
    const { limits } = limiter({ all: { rpm: 1 } });
    expect(limits.admit("a", MODEL, 1).admitted).toBe(true);
    expect(limits.admit("b", MODEL, 1).admitted).toBe(true);
    expect(limits.admit("a", "gemini-2.0-flash", 1).admitted).toBe(true);
    expect(limits.admit("a", MODEL, 1).admitted).toBe(false);
    expect(limits.usage()).toEqual([
      { client: 1, model: MODEL, rpm: 1, tpm: 1, rpd: 1 },
      { client: 1, model: "gemini-2.0-flash", rpm: 1, tpm: 1, rpd: 1 },
      { client: 2, model: MODEL, rpm: 1, tpm: 1, rpd: 1 },
    ]);
  });
});

describe("RateLimiter: input tokens per minute", () => {
  it("waits until enough tokens leave the window for this prompt", () => {
    const { clock, limits } = limiter({ all: { tpm: 1000 } });
    limits.admit("k", MODEL, 400); // t=0
    clock.advance(20 * SECOND);
    limits.admit("k", MODEL, 300); // t=20
    clock.advance(20 * SECOND);
    limits.admit("k", MODEL, 200); // t=40, 900 used
    clock.advance(5 * SECOND);

    expect(limits.admit("k", MODEL, 100).admitted).toBe(true); // exactly 1000
    // 600 more needs 400 + 300 gone: the t=20 request leaves at 80s; now is 45s.
    const refusal = refused(limits.admit("k", MODEL, 600));
    expect(refusal.violations).toEqual([{ kind: "tpm", limit: 1000, retryDelayMs: 35 * SECOND }]);
  });

  it("refuses a prompt larger than the whole limit with a full window's delay", () => {
    const { limits } = limiter({ all: { tpm: 1000 } });
    expect(refused(limits.admit("k", MODEL, 1001)).retryDelayMs).toBe(60 * SECOND);
  });
});

describe("RateLimiter: requests per day and combined limits", () => {
  it("counts a sliding 24 hours", () => {
    const { clock, limits } = limiter({ all: { rpd: 2 } });
    limits.admit("k", MODEL, 1);
    clock.advance(3_600 * SECOND);
    limits.admit("k", MODEL, 1);
    clock.advance(3_600 * SECOND);
    expect(refused(limits.admit("k", MODEL, 1)).violations).toEqual([
      { kind: "rpd", limit: 2, retryDelayMs: 22 * 3_600 * SECOND },
    ]);
    clock.advance(22 * 3_600 * SECOND);
    expect(limits.admit("k", MODEL, 1).admitted).toBe(true);
  });

  it("reports every exhausted limit and the longest wait", () => {
    const { clock, limits } = limiter({ all: { rpm: 1, tpm: 100, rpd: 1 } });
    limits.admit("k", MODEL, 100);
    clock.advance(30 * SECOND);
    const refusal = refused(limits.admit("k", MODEL, 50));
    expect(refusal.violations.map((violation) => violation.kind)).toEqual(["rpm", "tpm", "rpd"]);
    expect(refusal.retryDelayMs).toBe(24 * 3_600 * SECOND - 30 * SECOND);
  });

  it("refuses everything at a limit of 0, as the API does for models a tier lacks", () => {
    const { limits } = limiter({ all: { rpm: 0 } });
    expect(refused(limits.admit("k", MODEL, 1)).violations).toEqual([
      { kind: "rpm", limit: 0, retryDelayMs: 60 * SECOND },
    ]);
  });
});

describe("RateLimiter: configuration", () => {
  it("layers tier, all and byModel field by field; no settings means unlimited", () => {
    const { limits } = limiter({ tier: "free", all: { rpm: 20 }, byModel: { "gemini-2.5-pro": { rpd: 5 } } });
    expect(limits.limitsFor(MODEL)).toEqual({ rpm: 20, tpm: 250_000, rpd: 250 });
    expect(limits.limitsFor("gemini-2.5-pro")).toEqual({ rpm: 20, tpm: 250_000, rpd: 5 });

    const open = limiter({}).limits;
    for (let i = 0; i < 1000; i += 1) expect(open.admit("k", MODEL, 1_000_000).admitted).toBe(true);
    expect(open.usage()).toEqual([]);
  });

  it("applies new limits to usage already recorded, and can forget that usage", () => {
    const { limits } = limiter({ all: { rpm: 5 } });
    limits.admit("k", MODEL, 1);
    limits.admit("k", MODEL, 1);
    limits.configure({ all: { rpm: 2 } });
    expect(limits.admit("k", MODEL, 1).admitted).toBe(false);
    limits.clearUsage();
    expect(limits.admit("k", MODEL, 1).admitted).toBe(true);
  });

  it("rejects impossible settings", () => {
    const clock = manualClock();
    expect(() => new RateLimiter({ all: { rpm: -1 } }, clock)).toThrow(/rateLimits.all.rpm/);
    expect(() => new RateLimiter({ all: { tpm: 1.5 } }, clock)).toThrow(RangeError);
    expect(() => new RateLimiter({ byModel: { m: { rpd: Number.NaN } } }, clock)).toThrow(/byModel.m.rpd/);
    expect(() => new RateLimiter({ tier: "platinum" as never }, clock)).toThrow(/tier/);
  });
});
