import { identityTransform, transformFor } from "@tessera/imaging";
import { describe, expect, it } from "vitest";
import { findList, readSpatialItems } from "./boxes.ts";
import type { JsonPath } from "./json-extract.ts";
import type { Problem } from "./warnings.ts";

function read(
  value: unknown,
  options: { labels?: string[]; cutPath?: JsonPath; size?: [number, number] } = {},
) {
  const [width, height] = options.size ?? [1000, 1000];
  const problems: Problem[] = [];
  const items = readSpatialItems(
    { value, problems: [], cutPath: options.cutPath, truncated: options.cutPath !== undefined },
    identityTransform({ width, height }),
    { labels: options.labels },
    problems,
  );
  return { items: items?.map((i) => [i.label, i.box]), codes: problems.map((p) => p.code), problems };
}

describe("readSpatialItems geometry", () => {
  it("maps box_2d [ymin, xmin, ymax, xmax] on the sent image to [x0, y0, x1, y1] original pixels", () => {
    // A 4000x3000 photo sent at 1024x768: answers are relative to the sent image.
    const t = transformFor(
      { width: 4000, height: 3000 },
      1,
      { width: 4000, height: 3000 },
      { width: 1024, height: 768 },
    );
    const problems: Problem[] = [];
    const items = readSpatialItems(
      {
        value: [{ box_2d: [100, 200, 500, 600], label: "cat" }],
        problems: [],
        cutPath: undefined,
        truncated: false,
      },
      t,
      {},
      problems,
    );
    expect(items?.map((i) => i.box)).toEqual([[800, 300, 2400, 1500]]);
    expect(problems).toEqual([]);
  });

  it("lands in the display frame of a rotated photo (stored 3000x4000, shown 4000x3000)", () => {
    const t = transformFor(
      { width: 3000, height: 4000 },
      6,
      { width: 4000, height: 3000 },
      { width: 1024, height: 768 },
    );
    const items = readSpatialItems(
      {
        value: [{ box_2d: [0, 0, 1000, 500], label: "left half" }],
        problems: [],
        cutPath: undefined,
        truncated: false,
      },
      t,
      {},
      [],
    );
    expect(items?.map((i) => i.box)).toEqual([[0, 0, 2000, 3000]]);
  });

  it("rounds to whole pixel edges and drops boxes thinner than a pixel", () => {
    const r = read(
      [
        { box_2d: [10, 10, 20, 21], label: "a" },
        { box_2d: [1, 1, 2, 2], label: "sliver" },
      ],
      { size: [1500, 700] },
    );
    expect(r.items).toEqual([["a", [15, 7, 32, 14]]]);
    expect(r.codes).toEqual(["zero_size_box"]);
  });
});

describe("readSpatialItems repairs", () => {
  it("clamps values outside 0..1000 and reorders reversed corners, with a warning each", () => {
    const r = read([
      { box_2d: [-20, 100, 1004, 1000], label: "clamped" },
      { box_2d: [600, 700, 200, 300], label: "reversed" },
    ]);
    expect(r.items).toEqual([
      ["clamped", [100, 0, 1000, 1000]],
      ["reversed", [300, 200, 700, 600]],
    ]);
    expect(r.codes).toEqual(["clamped_coordinates", "reversed_corners"]);
  });

  it("drops zero-size boxes, exact duplicates and malformed items, counting each", () => {
    const r = read([
      { box_2d: [100, 100, 100, 300], label: "flat" },
      { box_2d: [10, 10, 50, 50], label: "cup" },
      { box_2d: [10, 10, 50, 50], label: "Cup" },
      { box_2d: [10, 10, 50, 50], label: "mug" },
      { box_2d: [60, 60, 90, 90], label: "cup" },
      { box_2d: [1, 2, 3], label: "three numbers" },
      { box_2d: ["1", 2, 3, 4], label: "a string" },
      { box_2d: [1, 2, 3, 4] },
      "not an object",
    ]);
    // Same label twice at different places is two objects; the same box under another label is
    // a second opinion, kept.
    expect(r.items).toEqual([
      ["cup", [10, 10, 50, 50]],
      ["mug", [10, 10, 50, 50]],
      ["cup", [60, 60, 90, 90]],
    ]);
    expect(r.codes).toEqual([
      "zero_size_box",
      "duplicate_box",
      "shared_box",
      "invalid_item",
      "invalid_item",
      "invalid_item",
      "invalid_item",
    ]);
  });

  it("keeps only listed labels, matching them loosely", () => {
    const r = read(
      [
        { box_2d: [0, 0, 10, 10], label: "Traffic_Light" },
        { box_2d: [0, 0, 20, 20], label: "car" },
        { box_2d: [0, 0, 30, 30], label: "tree" },
      ],
      { labels: ["traffic light", "car"] },
    );
    expect(r.items?.map((i) => i[0])).toEqual(["traffic light", "car"]);
    expect(r.codes).toEqual(["label_normalised", "label_not_in_set"]);
  });

  it("leaves out the item the answer was cut inside", () => {
    const r = read([{ box_2d: [0, 0, 10, 10], label: "a" }, { box_2d: [0, 0] }], { cutPath: [1, "box_2d"] });
    expect(r.items).toEqual([["a", [0, 0, 10, 10]]]);
    expect(r.codes).toEqual([]);
  });
});

describe("findList", () => {
  it("finds the list bare, wrapped, or as a lone item", () => {
    const problems: Problem[] = [];
    expect(findList([1], problems)).toEqual({ list: [1], path: [], wrapped: false });
    expect(findList({ boxes: [1], note: "x" }, problems)).toEqual({
      list: [1],
      path: ["boxes"],
      wrapped: true,
    });
    expect(findList({ detected_things: [2] }, problems)).toEqual({
      list: [2],
      path: ["detected_things"],
      wrapped: true,
    });
    expect(findList({ box_2d: [1, 2, 3, 4], label: "a" }, problems)?.list).toHaveLength(1);
    expect(problems.map((p) => p.code)).toEqual(["wrapped_list", "wrapped_list", "single_object_list"]);
  });

  it("gives up on objects with no list or several candidate lists", () => {
    expect(findList({ a: [1], b: [2] }, [])).toBeUndefined();
    expect(findList({ a: 1 }, [])).toBeUndefined();
    expect(findList("text", [])).toBeUndefined();
  });
});
