import { describe, expect, it } from "vitest";
import type { RunState } from "@tessera/queue";
import { formatCount, formatDuration, progressLine, summaryText } from "./progress.ts";

const base: RunState = {
  v: 1,
  runId: "r1",
  task: "caption",
  model: "gemini-2.5-flash",
  prompt: "p",
  source: "s3://b/in",
  out: "s3://b/out",
  createdAt: "2026-01-01T00:00:00.000Z",
  imagesPerRequest: 1,
  status: "running",
  scanned: true,
  objects: 12,
  images: 10,
  skipped: 2,
  done: 4,
  failed: 1,
  blocked: 0,
  unchanged: 0,
  paused: false,
  tokens_prompt: 12_345,
  tokens_output: 321,
  tokens_image: 10_000,
  maxOutputTokens: 1024,
  detail: "standard",
  convert: "convert",
  transport: "auto",
  keepFiles: false,
  cache: true,
  taskOptions: "{}",
  configHash: "",
  budget_skipped: 0,
  cancelled: 0,
  cached: 0,
  cancelRequested: false,
  budget_tokens: 0,
  budget_cost_micros: 0,
  cost_micros: 0,
  estimate_tokens_prompt: 0,
  estimate_tokens_output: 0,
  estimate_cost_micros: 0,
  estimate_done_prompt: 0,
};

describe("progress", () => {
  it("draws the bar from settled images over the total", () => {
    const line = progressLine(base, 10, new Date("2026-01-01T00:01:05Z"));
    expect(line).toBe(
      "[#####.....]  5/10  done 4 failed 1 skipped 2  tokens 12.3k in / 321 out  1m05s  running",
    );
  });

  it("says how many done images came from the cache", () => {
    expect(progressLine({ ...base, cached: 3 }, 10)).toContain("done 4 (3 cached) failed 1");
    expect(summaryText({ ...base, cached: 3, done: 4 }, [])).toContain(
      "done 4 of which 3 from the cache, no call",
    );
  });

  it("marks the total as provisional while the source is still being listed", () => {
    expect(progressLine({ ...base, scanned: false, status: "scanning" }, 4)).toContain("5/10+");
  });

  it("summarises a run with its first problems", () => {
    const text = summaryText(
      { ...base, status: "completed", failed: 3, done: 7, finishedAt: "2026-01-01T00:00:09.000Z" },
      [{ key: "a.jpg", status: "failed", message: "undecodable jpeg" }],
    );
    expect(text).toContain("run r1: completed");
    expect(text).toContain("done 7, failed 3");
    expect(text).toContain("elapsed  9s");
    expect(text).toContain("cost     $0.0000");
    expect(text).toContain("output   s3://b/out/r1/");
    expect(text).toContain("    failed a.jpg: undecodable jpeg");
    expect(text).toContain("... and 2 more in manifest.jsonl");
  });

  it("shows estimate against actual, and the budget when there is one", () => {
    const text = summaryText({
      ...base,
      status: "budget_exhausted",
      cost_micros: 1_234_567,
      estimate_cost_micros: 2_000_000,
      estimate_tokens_prompt: 13_000,
      estimate_done_prompt: 12_345,
      budgetMaxCostMicros: 1_500_000,
      budget_skipped: 3,
    });
    expect(text).toContain(
      "tokens   12345 in (10000 image), 321 out; estimated 13000 in (12345 for the 4 images done)",
    );
    expect(text).toContain("cost     $1.2346 (estimated $2.0000)");
    expect(text).toContain("budget   $1.5000; 3 images skipped for budget");
  });

  it("formats counts and durations compactly", () => {
    expect([formatCount(999), formatCount(12_345), formatCount(3_200_000)]).toEqual([
      "999",
      "12.3k",
      "3.20M",
    ]);
    expect([formatDuration(400), formatDuration(61_000), formatDuration(3_725_000)]).toEqual([
      "0s",
      "1m01s",
      "1h02m",
    ]);
  });
});
