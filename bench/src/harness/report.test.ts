import { describe, expect, it } from "vitest";
import { summarize, table, targetMet, type ScenarioResult } from "./report.ts";

describe("summarize", () => {
  it("takes the middle sample, or the mean of the two middle ones", () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
    expect(summarize([7])).toEqual({ median: 7, min: 7, max: 7 });
  });
});

describe("targetMet", () => {
  it("holds the median to the target's side of the bound", () => {
    expect(targetMet({ metric: "m", op: ">=", value: 0.7, label: "" }, 0.7)).toBe(true);
    expect(targetMet({ metric: "m", op: ">=", value: 0.7, label: "" }, 0.69)).toBe(false);
    expect(targetMet({ metric: "m", op: "<=", value: 400, label: "" }, 401)).toBe(false);
    expect(targetMet({ metric: "m", op: "==", value: 0, label: "" }, 0)).toBe(true);
  });
});

describe("table", () => {
  it("prints median, range and the verdict of each metric with a target", () => {
    const result: ScenarioResult = {
      metrics: [
        { name: "ratio", unit: "x", samples: [0.9, 0.6, 0.8] },
        { name: "rss", unit: "MiB", samples: [450] },
      ],
      targets: [
        { metric: "ratio", op: ">=", value: 0.7, label: ">= 0.7x" },
        { metric: "rss", op: "<=", value: 400, label: "<= 400 MB" },
      ],
      conditions: {},
    };
    const lines = table(result).split("\n");
    expect(lines[2]).toMatch(/^ratio\s+x\s+0\.800\s+0\.600 - 0\.900\s+3\s+>= 0\.7x: met$/);
    expect(lines[3]).toMatch(/^rss\s+MiB\s+450\s+1\s+<= 400 MB: MISSED$/);
  });
});
