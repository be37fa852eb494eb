import { describe, expect, it } from "vitest";
import { extractJson, isCut } from "./json-extract.ts";

const codes = (text: string): string[] => {
  const r = extractJson(text);
  return r.problems.map((p) => p.code);
};

describe("extractJson", () => {
  it("reads bare JSON without warnings", () => {
    expect(extractJson('[{"a": 1}]')).toEqual({
      ok: true,
      value: [{ a: 1 }],
      problems: [],
      cutPath: undefined,
    });
  });

  it("reads JSON inside a fence, with or without prose around it", () => {
    const fenced = extractJson('```json\n{"a": [1, 2]}\n```');
    expect(fenced).toMatchObject({ ok: true, value: { a: [1, 2] } });
    expect(codes('```json\n{"a": 1}\n```')).toEqual(["fenced_json"]);
    expect(codes('Here you go:\n```json\n{"a": 1}\n```\nAnything else?')).toEqual([
      "fenced_json",
      "prose_around_json",
    ]);
    expect(extractJson("```\n[1]\n```")).toMatchObject({ ok: true, value: [1] });
  });

  it("finds JSON in prose, skipping bracketed prose that is not JSON", () => {
    const r = extractJson('The boxes are [ymin, xmin, ymax, xmax]: [{"box_2d": [1, 2, 3, 4]}] as asked.');
    expect(r).toMatchObject({ ok: true, value: [{ box_2d: [1, 2, 3, 4] }], cutPath: undefined });
    expect(r.problems.map((p) => p.code)).toEqual(["prose_around_json"]);
  });

  it("is not fooled by brackets and quotes inside strings", () => {
    const r = extractJson('Result: {"label": "a \\"quoted\\" [thing] {x}", "n": 1} done');
    expect(r).toMatchObject({ ok: true, value: { label: 'a "quoted" [thing] {x}', n: 1 } });
  });

  it("keeps the complete items of a cut-off list and says where it was cut", () => {
    const r = extractJson('[{"box_2d": [1, 2, 3, 4], "label": "a"}, {"box_2d": [5, 6, 7');
    expect(r).toMatchObject({ ok: true, cutPath: [1, "box_2d"] });
    if (!r.ok) throw new Error("unreachable");
    // The cut item is closed off too; its path marks it incomplete.
    expect(r.value).toEqual([{ box_2d: [1, 2, 3, 4], label: "a" }, { box_2d: [5, 6] }]);
    expect(isCut(r.cutPath, [1])).toBe(true);
    expect(isCut(r.cutPath, [0])).toBe(false);
    expect(r.problems.map((p) => p.code)).toEqual(["truncated"]);
  });

  it("cuts between items when the answer stops right after one", () => {
    const r = extractJson('```json\n{"boxes": [{"label": "a"}, ');
    expect(r).toMatchObject({ ok: true, value: { boxes: [{ label: "a" }] }, cutPath: ["boxes"] });
    expect(r.problems.map((p) => p.code)).toEqual(["fenced_json", "truncated"]);
  });

  it("does not keep a number that may have been cut mid-digits", () => {
    const r = extractJson('{"a": [1, 23');
    expect(r).toMatchObject({ ok: true, value: { a: [1] }, cutPath: ["a"] });
  });

  it("keeps whole members of a keyed object and closes the cut one empty", () => {
    const r = extractJson('{"img_1": {"caption": "x"}, "img_2": {"caption": "A d');
    expect(r).toMatchObject({ ok: true, value: { img_1: { caption: "x" }, img_2: {} }, cutPath: ["img_2"] });
  });

  it("returns no value when nothing completed before the cut", () => {
    const r = extractJson('[{"box_2d": [1');
    expect(r).toMatchObject({ ok: true, cutPath: [0, "box_2d"] });
    if (!r.ok) throw new Error("unreachable");
    expect(r.value).toEqual([{ box_2d: [] }]);
    expect(extractJson('{"a": "unterminated')).toMatchObject({ ok: true, value: {}, cutPath: [] });
  });

  it("fails on answers with no JSON and on empty answers", () => {
    expect(extractJson("I cannot see any objects.")).toMatchObject({
      ok: false,
      error: "no JSON found in the answer",
    });
    expect(extractJson("  \n")).toMatchObject({ ok: false, error: "empty answer" });
  });

  it("reads a top-level string or number as JSON", () => {
    expect(extractJson('"a caption"')).toMatchObject({ ok: true, value: "a caption" });
  });
});

describe("isCut", () => {
  it("marks the cut container and its ancestors only", () => {
    expect(isCut(undefined, [])).toBe(false);
    expect(isCut([], [])).toBe(true);
    expect(isCut(["boxes", 3], ["boxes"])).toBe(true);
    expect(isCut(["boxes", 3], ["boxes", 3])).toBe(true);
    expect(isCut(["boxes", 3], ["boxes", 2])).toBe(false);
    expect(isCut(["boxes"], ["boxes", 2])).toBe(false);
  });
});
