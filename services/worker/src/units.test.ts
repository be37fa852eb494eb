import { describe, expect, it } from "vitest";
import type { Annotation } from "@tessera/core";
import { annotationOf, unitsOf } from "./units.ts";

const ref = (key: string, etag = `e-${key}`) => ({ key, etag, size: 1, mime: "image/png" });

describe("unitsOf", () => {
  it("makes each image of a request its own unit, keyed and filed by its source key", () => {
    const units = unitsOf({ runId: "r", images: [ref("a.png"), ref("b/c.png")] });
    expect(units.map((u) => [u.key, u.annotationKey, u.refs.length])).toEqual([
      ["a.png", "r/annotations/a.png.json", 1],
      ["b/c.png", "r/annotations/b/c.png.json", 1],
    ]);
  });

  it("makes a compare set one unit, keyed by its id, whose ETag changes with any member", () => {
    const [set] = unitsOf({ runId: "r", images: [ref("a.png"), ref("b.png")], set: { id: "pair-1" } });
    expect(set).toMatchObject({
      key: "pair-1",
      annotationKey: "r/sets/pair-1.json",
      set: { members: ["a.png", "b.png"] },
    });
    const [changed] = unitsOf({
      runId: "r",
      images: [ref("a.png"), ref("b.png", "other")],
      set: { id: "pair-1" },
    });
    expect(changed!.etag).not.toBe(set!.etag);
  });

  it("recognises an annotation written for the very same objects only", () => {
    const [image] = unitsOf({ runId: "r", images: [ref("a.png")] });
    const written = { source: { etag: "e-a.png" } } as Annotation;
    expect(annotationOf(image!, written)).toBe(true);
    expect(annotationOf(image!, { source: { etag: "old" } } as Annotation)).toBe(false);
    const [set] = unitsOf({ runId: "r", images: [ref("a.png"), ref("b.png")], set: { id: "s" } });
    const members = [
      { key: "a.png", etag: "e-a.png" },
      { key: "b.png", etag: "e-b.png" },
    ];
    expect(annotationOf(set!, { set: { id: "s", members } } as unknown as Annotation)).toBe(true);
    expect(
      annotationOf(set!, { set: { id: "s", members: members.slice(0, 1) } } as unknown as Annotation),
    ).toBe(false);
  });
});
