import { describe, expect, it } from "vitest";
import type { ManifestLine } from "@tessera/core";
import { runStateSchema } from "@tessera/queue";
import { digestItems, runView } from "./views.ts";

const hash = {
  v: "2",
  runId: "r1",
  task: "detect",
  model: "gemini-2.5-flash",
  prompt: "p",
  source: "s3://b/in",
  out: "s3://b/out",
  createdAt: "2026-12-04T10:00:00.000Z",
  maxOutputTokens: "1024",
  status: "running",
  scanned: "1",
  images: "10",
  done: "4",
  failed: "1",
  blocked: "0",
  unchanged: "3",
  budgetMaxCostMicros: "2000000",
  budget_cost_micros: "500000",
  cost_micros: "450000",
  estimate_cost_micros: "1000000",
};

describe("runView", () => {
  it("computes progress, rate, ETA, cost against estimate and budget left", () => {
    const view = runView(runStateSchema.parse(hash), new Date("2026-12-04T10:00:10.000Z"));
    expect(view.progress).toBeCloseTo(0.5);
    expect(view.ratePerS).toBeCloseTo(0.5);
    expect(view.etaS).toBeCloseTo(10);
    expect(view.costUsd).toBeCloseTo(0.45);
    expect(view.estimate.costUsd).toBeCloseTo(1);
    expect(view.budget).toEqual({ maxCostUsd: 2, costLeftUsd: 1.5 });
    expect(view.counts.unchanged).toBe(3);
    expect(view.ended).toBe(false);
  });

  it("has no progress before the scan counted the images, and no ETA once ended", () => {
    const scanning = runView(runStateSchema.parse({ ...hash, scanned: "0", status: "scanning" }), new Date());
    expect(scanning.progress).toBeNull();
    expect(scanning.etaS).toBeNull();
    const done = runView(
      runStateSchema.parse({ ...hash, status: "completed", finishedAt: "2026-12-04T10:00:05.000Z" }),
      new Date("2026-12-04T11:00:00.000Z"),
    );
    expect(done.elapsedS).toBe(5);
    expect(done.etaS).toBeNull();
  });
});

describe("digestItems", () => {
  const at = (s: number) => new Date(Date.parse("2026-12-04T10:00:00.000Z") + s * 1000).toISOString();
  const lines: ManifestLine[] = [
    { key: "b.png", etag: "e", status: "done", annotationKey: "r/annotations/b.png.json", at: at(0) },
    { key: "a.png", etag: "e", status: "done", annotationKey: "r/annotations/a.png.json", at: at(0.5) },
    { key: "c.png", etag: "e", status: "failed", error: { class: "transient", message: "503" }, at: at(2) },
    { key: "d.png", etag: "e", status: "failed", error: { class: "transient", message: "reset" }, at: at(2) },
    { key: "e.png", etag: "e", status: "failed", error: { class: "bad_image", message: "torn" }, at: at(3) },
    { key: "f.png", etag: "e", status: "blocked", error: { class: "blocked", message: "SAFETY" }, at: at(3) },
    {
      key: "x.txt",
      etag: "e",
      status: "skipped",
      error: { class: "not_an_image", message: "pdf" },
      at: at(3),
    },
  ];

  it("groups errors by class with examples, most frequent first", () => {
    const digest = digestItems(lines, { examples: 1 });
    expect(digest.errors).toEqual([
      { class: "transient", count: 2, examples: [{ key: "c.png", message: "503" }] },
      { class: "bad_image", count: 1, examples: [{ key: "e.png", message: "torn" }] },
      { class: "blocked", count: 1, examples: [{ key: "f.png", message: "SAFETY" }] },
    ]);
    expect(digest.doneKeys).toEqual(["a.png", "b.png"]);
    expect(digest.lines).toBe(7);
  });

  it("buckets outcomes over time, at most 60 points", () => {
    const digest = digestItems(lines);
    expect(digest.throughput.bucketS).toBe(1);
    expect(digest.throughput.points.map((p) => [p.done, p.failed])).toEqual([
      [2, 0],
      [0, 0],
      [0, 2],
      [0, 2],
    ]);
    const long = Array.from({ length: 1000 }, (_, i) => ({ ...lines[0]!, key: `k${i}`, at: at(i * 10) }));
    const wide = digestItems(long);
    expect(wide.throughput.points.length).toBeLessThanOrEqual(60);
    expect(wide.throughput.points.reduce((n, p) => n + p.done, 0)).toBe(1000);
  });
});
