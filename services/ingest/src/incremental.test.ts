import { describe, expect, it } from "vitest";
import type { ManifestLine } from "@tessera/core";
import { unchangedLine } from "./incremental.ts";

const at = "2026-12-04T10:00:00.000Z";
const done: ManifestLine = {
  key: "a.png",
  etag: '"e1"',
  status: "done",
  mime: "image/png",
  annotationKey: "run1/annotations/a.png.json",
  at,
};

describe("unchangedLine", () => {
  it("keeps an image done at the same ETag, pointing at the run that paid for it", () => {
    expect(unchangedLine(done, "run1", { key: "a.png", etag: '"e1"' }, at)).toEqual({
      key: "a.png",
      etag: '"e1"',
      status: "unchanged",
      mime: "image/png",
      annotationKey: "run1/annotations/a.png.json",
      previousRunId: "run1",
      at,
    });
    const carried = unchangedLine(
      { ...done, status: "unchanged", previousRunId: "run0" },
      "run1",
      { key: "a.png", etag: '"e1"' },
      at,
    );
    expect(carried?.previousRunId).toBe("run0");
  });

  it("sends again what changed, what is new and what did not succeed", () => {
    expect(unchangedLine(done, "run1", { key: "a.png", etag: '"e2"' }, at)).toBeUndefined();
    expect(unchangedLine(undefined, "run1", { key: "b.png", etag: '"e1"' }, at)).toBeUndefined();
    for (const status of ["failed", "blocked", "skipped"] as const) {
      expect(unchangedLine({ ...done, status }, "run1", { key: "a.png", etag: '"e1"' }, at)).toBeUndefined();
    }
  });
});
