import { describe, expect, it } from "vitest";
import { FaultInjector, seededRandom } from "./faults.ts";

function run(injector: FaultInjector, count: number): (number | undefined)[] {
  return Array.from({ length: count }, () => injector.next().fault);
}

describe("FaultInjector", () => {
  const faults = { rate429: 0.1, rate500: 0.05, rate503: 0.15 };

  it("replays the same faults for the same seed and differs for another seed", () => {
    const first = run(new FaultInjector({ faults, seed: 42 }), 200);
    expect(run(new FaultInjector({ faults, seed: 42 }), 200)).toEqual(first);
    expect(run(new FaultInjector({ faults, seed: 43 }), 200)).not.toEqual(first);
  });

  it("fails roughly the configured fraction of requests, per code", () => {
    const outcomes = run(new FaultInjector({ faults, seed: 7 }), 10_000);
    const share = (code: number | undefined) =>
      outcomes.filter((outcome) => outcome === code).length / outcomes.length;
    expect(share(429)).toBeCloseTo(0.1, 1);
    expect(share(500)).toBeCloseTo(0.05, 1);
    expect(share(503)).toBeCloseTo(0.15, 1);
    expect(share(undefined)).toBeCloseTo(0.7, 1);
  });

  it("never faults with no rates", () => {
    expect(run(new FaultInjector({}), 100).every((fault) => fault === undefined)).toBe(true);
  });

  it("serves forced faults first without shifting the random sequence", () => {
    const plain = run(new FaultInjector({ faults, seed: 9 }), 10);
    const forced = new FaultInjector({ faults, seed: 9 });
    forced.failNext(2, 429);
    forced.failNext(1, 504);
    expect(forced.pending).toBe(3);
    expect(run(forced, 10)).toEqual([429, 429, 504, ...plain.slice(3)]);
    expect(forced.pending).toBe(0);
  });

  it("draws latency within the range, deterministically", () => {
    const make = () => new FaultInjector({ latencyMs: { min: 10, max: 20 }, seed: 5 });
    const a = make();
    const b = make();
    const drawn = Array.from({ length: 50 }, () => a.next().latencyMs);
    expect(drawn).toEqual(Array.from({ length: 50 }, () => b.next().latencyMs));
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(20);
    expect(new Set(drawn).size).toBeGreaterThan(1);
    expect(new FaultInjector({ latencyMs: 7 }).next().latencyMs).toBe(7);
  });

  it("rejects impossible settings", () => {
    expect(() => new FaultInjector({ faults: { rate429: 1.5 } })).toThrow(RangeError);
    expect(() => new FaultInjector({ faults: { rate429: 0.6, rate503: 0.6 } })).toThrow(/more than 1/);
    expect(() => new FaultInjector({ latencyMs: { min: 5, max: 1 } })).toThrow(RangeError);
    expect(() => new FaultInjector({ latencyMs: -1 })).toThrow(RangeError);
    expect(() => new FaultInjector({}).failNext(-1, 503)).toThrow(RangeError);
  });
});

describe("seededRandom", () => {
  it("yields numbers in [0, 1)", () => {
    const random = seededRandom(123);
    const values = Array.from({ length: 1000 }, random);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
  });
});
