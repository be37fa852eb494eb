import { describe, expect, it } from "vitest";
import { FaultSpecError, describeFaults, mergeFaultSpecs, parseFaultSpec } from "./markers.ts";

describe("parseFaultSpec", () => {
  it("reads errors, bursts, latency and content faults", () => {
    expect(parseFaultSpec("503")).toEqual({ error: "503" });
    expect(parseFaultSpec(" 429:3 ")).toEqual({ error: "429", burst: 3 });
    expect(parseFaultSpec("reset,latency:250")).toEqual({ error: "reset", latencyMs: 250 });
    expect(parseFaultSpec("fence,prose,truncate:5")).toEqual({
      content: ["fence", "prose", "truncate"],
      truncateTokens: 5,
    });
    expect(parseFaultSpec("truncate")).toEqual({ content: ["truncate"] });
    expect(parseFaultSpec("reversed-boxes,over-1000,wrapped-boxes,seg-masks,duplicates,block")).toEqual({
      content: ["reversed-boxes", "over-1000", "wrapped-boxes", "seg-masks", "duplicates", "block"],
    });
    expect(parseFaultSpec("")).toEqual({});
  });

  it("explains what is wrong with a bad spec", () => {
    expect(() => parseFaultSpec("502")).toThrow(/unknown fault "502"/);
    expect(() => parseFaultSpec("503,500")).toThrow(/cannot both answer one request/);
    expect(() => parseFaultSpec("block,safety")).toThrow(/exclude each other/);
    expect(() => parseFaultSpec("latency")).toThrow(/"latency" needs an integer >= 0/);
    expect(() => parseFaultSpec("429:0")).toThrow(/needs an integer >= 1/);
    expect(() => parseFaultSpec("fence:2")).toThrow(/takes no argument/);
    expect(() => parseFaultSpec("truncate:1:2")).toThrow(FaultSpecError);
  });
});

describe("mergeFaultSpecs", () => {
  it("keeps the first error and its burst, the longest latency, and every content fault", () => {
    expect(
      mergeFaultSpecs([
        { content: ["fence"], latencyMs: 10 },
        { error: "429", burst: 2, latencyMs: 30 },
        { error: "503", content: ["prose", "fence"], truncateTokens: 4 },
      ]),
    ).toEqual({ error: "429", burst: 2, latencyMs: 30, content: ["fence", "prose"], truncateTokens: 4 });
    expect(mergeFaultSpecs([{ content: ["safety"] }, { content: ["block"] }])).toEqual({
      content: ["block"],
    });
    expect(mergeFaultSpecs([])).toEqual({});
  });

  it("names faults for logs and counters", () => {
    expect(describeFaults("reset", ["fence"])).toEqual(["reset", "fence"]);
    expect(describeFaults(undefined, [])).toEqual([]);
  });
});
