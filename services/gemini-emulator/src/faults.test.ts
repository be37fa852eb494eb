import { describe, expect, it } from "vitest";
import type { FaultSettings } from "./faults.ts";
import { FaultInjector, seededRandom } from "./faults.ts";

function errors(injector: FaultInjector, count: number): (string | undefined)[] {
  return Array.from({ length: count }, () => injector.next().error);
}

describe("FaultInjector: error faults", () => {
  const faults = { rates: { "429": 0.1, "500": 0.05, "503": 0.15, "504": 0.05, reset: 0.05 } };

  it("replays the same faults for the same seed and differs for another seed", () => {
    const first = errors(new FaultInjector({ faults, seed: 42 }), 200);
    expect(errors(new FaultInjector({ faults, seed: 42 }), 200)).toEqual(first);
    expect(errors(new FaultInjector({ faults, seed: 43 }), 200)).not.toEqual(first);
  });

  it("fails roughly the configured fraction of requests, per fault", () => {
    const outcomes = errors(new FaultInjector({ faults, seed: 7 }), 10_000);
    const share = (fault: string | undefined) =>
      outcomes.filter((outcome) => outcome === fault).length / outcomes.length;
    expect(share("429")).toBeCloseTo(0.1, 1);
    expect(share("500")).toBeCloseTo(0.05, 1);
    expect(share("503")).toBeCloseTo(0.15, 1);
    expect(share("504")).toBeCloseTo(0.05, 1);
    expect(share("reset")).toBeCloseTo(0.05, 1);
    expect(share(undefined)).toBeCloseTo(0.6, 1);
  });

  it("accepts the older rate429/rate500/rate503 spellings as the same rates", () => {
    const legacy = new FaultInjector({ faults: { rate429: 0.2, rate503: 0.3 }, seed: 3 });
    const modern = new FaultInjector({ faults: { rates: { "429": 0.2, "503": 0.3 } }, seed: 3 });
    expect(errors(legacy, 300)).toEqual(errors(modern, 300));
    expect(legacy.settings.faults).toEqual({ rates: { "429": 0.2, "503": 0.3 } });
  });

  it("never faults with no rates", () => {
    const injector = new FaultInjector({});
    const decisions = Array.from({ length: 100 }, () => injector.next());
    expect(decisions.every((d) => d.error === undefined && d.content.length === 0 && d.latencyMs === 0)).toBe(
      true,
    );
  });

  it("serves forced faults first without shifting the random sequence", () => {
    const plain = errors(new FaultInjector({ faults, seed: 9 }), 10);
    const forced = new FaultInjector({ faults, seed: 9 });
    forced.failNext(2, 429);
    forced.failNext(1, "reset");
    expect(forced.pending).toBe(3);
    expect(errors(forced, 10)).toEqual(["429", "429", "reset", ...plain.slice(3)]);
    expect(forced.pending).toBe(0);
  });

  it("turns a random 429 into a burst of burst429", () => {
    const injector = new FaultInjector({ faults: { rates: { "429": 0.05 }, burst429: 3 }, seed: 11 });
    const outcomes = errors(injector, 2000);
    const first = outcomes.indexOf("429");
    expect(first).toBeGreaterThanOrEqual(0);
    expect(outcomes.slice(first, first + 3)).toEqual(["429", "429", "429"]);
    // Every run of 429s is at least three long (two bursts may touch).
    const runs: number[] = [];
    let length = 0;
    for (const outcome of [...outcomes, undefined]) {
      if (outcome === "429") length += 1;
      else if (length > 0) {
        runs.push(length);
        length = 0;
      }
    }
    expect(runs.length).toBeGreaterThan(5);
    expect(Math.min(...runs)).toBeGreaterThanOrEqual(3);
  });

  it("lets a marker's own error win without consuming the forced queue, and queues a marked burst", () => {
    const injector = new FaultInjector({});
    injector.failNext(1, 503);
    expect(injector.next("generateContent", { error: "504" }).error).toBe("504");
    expect(injector.next().error).toBe("503");
    expect(injector.next("generateContent", { error: "429", burst: 3 }).error).toBe("429");
    expect(errors(injector, 3)).toEqual(["429", "429", undefined]);
  });
});

describe("FaultInjector: content faults", () => {
  it("applies content faults to generateContent only, in a fixed order, and keeps forced ones for it", () => {
    const injector = new FaultInjector({});
    injector.failNext(1, "fence");
    expect(injector.next("countTokens", { content: ["prose"] }).content).toEqual([]);
    expect(injector.next("generateContent", { content: ["prose", "truncate"], truncateTokens: 4 })).toEqual({
      error: undefined,
      latencyMs: 0,
      content: ["fence", "prose", "truncate"],
      truncateTokens: 4,
    });
  });

  it("draws block/safety exclusively and shapes independently, at their rates", () => {
    const injector = new FaultInjector({
      faults: { rates: { block: 0.2, safety: 0.1, fence: 0.5, duplicates: 0.25 } },
      seed: 5,
    });
    const decisions = Array.from({ length: 10_000 }, () => injector.next().content);
    const share = (test: (content: string[]) => boolean) => decisions.filter(test).length / decisions.length;
    expect(share((c) => c.includes("block"))).toBeCloseTo(0.2, 1);
    expect(share((c) => c.includes("safety"))).toBeCloseTo(0.1, 1);
    expect(share((c) => c.includes("block") && c.includes("safety"))).toBe(0);
    expect(share((c) => c.includes("fence"))).toBeCloseTo(0.5, 1);
    expect(share((c) => c.includes("fence") && c.includes("duplicates"))).toBeCloseTo(0.125, 1);
  });

  it("keeps which requests fail when only a content rate changes", () => {
    const base: FaultSettings = { faults: { rates: { "503": 0.3 } }, seed: 21 };
    const withShapes: FaultSettings = { faults: { rates: { "503": 0.3, fence: 0.9 } }, seed: 21 };
    expect(errors(new FaultInjector(withShapes), 100)).toEqual(errors(new FaultInjector(base), 100));
  });
});

describe("FaultInjector: latency", () => {
  it("draws uniform latency within the range, deterministically", () => {
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

  it("draws a long tail with the asked median and 99th percentile, capped", () => {
    const injector = new FaultInjector({ latencyMs: { p50: 100, p99: 1000, max: 3000 }, seed: 8 });
    const drawn = Array.from({ length: 20_000 }, () => injector.next().latencyMs).sort((x, y) => x - y);
    const quantile = (q: number) => drawn[Math.floor(q * drawn.length)]!;
    expect(quantile(0.5)).toBeGreaterThan(90);
    expect(quantile(0.5)).toBeLessThan(110);
    expect(quantile(0.99)).toBeGreaterThan(850);
    expect(quantile(0.99)).toBeLessThan(1150);
    expect(drawn.at(-1)).toBeLessThanOrEqual(3000);
  });

  it("lets a marker set one request's latency", () => {
    expect(new FaultInjector({ latencyMs: 5 }).next("countTokens", { latencyMs: 250 }).latencyMs).toBe(250);
  });
});

describe("FaultInjector: settings", () => {
  it("rejects impossible settings", () => {
    expect(() => new FaultInjector({ faults: { rate429: 1.5 } })).toThrow(RangeError);
    expect(() => new FaultInjector({ faults: { rates: { "429": 0.6, reset: 0.6 } } })).toThrow(/more than 1/);
    expect(() => new FaultInjector({ faults: { rates: { block: 0.6, safety: 0.6 } } })).toThrow(
      /more than 1/,
    );
    expect(() => new FaultInjector({ faults: { rates: { nonsense: 0.1 } as never } })).toThrow(
      /unknown fault/,
    );
    expect(() => new FaultInjector({ faults: { burst429: 0 } })).toThrow(/burst429/);
    expect(() => new FaultInjector({ latencyMs: { min: 5, max: 1 } })).toThrow(RangeError);
    expect(() => new FaultInjector({ latencyMs: { p50: 100, p99: 50 } })).toThrow(RangeError);
    expect(() => new FaultInjector({ latencyMs: -1 })).toThrow(RangeError);
    expect(() => new FaultInjector({}).failNext(-1, 503)).toThrow(RangeError);
    expect(() => new FaultInjector({}).failNext(1, "teapot" as never)).toThrow(/unknown fault/);
  });

  it("keeps its random streams when reconfigured with the same seed, restarts them on a new one", () => {
    const settings: FaultSettings = { faults: { rates: { "503": 0.5 } }, seed: 4 };
    const reference = errors(new FaultInjector(settings), 20);
    const changed = new FaultInjector(settings);
    const head = errors(changed, 10);
    changed.reconfigure({ ...settings, latencyMs: 3 });
    expect([...head, ...errors(changed, 10)]).toEqual(reference);
    changed.reconfigure({ ...settings, seed: 4 }, true);
    expect(errors(changed, 10)).toEqual(reference.slice(0, 10));
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
