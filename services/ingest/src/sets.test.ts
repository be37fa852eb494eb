import { describe, expect, it } from "vitest";
import { parseSets, usesOf } from "./sets.ts";

describe("parseSets", () => {
  it("reads lists and objects, numbering ids by line", () => {
    const sets = parseSets(
      '["a.png","b.png"]\n\n{"id":"pair-x","keys":["b.png","c/d.jpg","e.png"]}\n',
      "s.jsonl",
      16,
    );
    expect(sets).toEqual([
      { id: "set-1", keys: ["a.png", "b.png"] },
      { id: "pair-x", keys: ["b.png", "c/d.jpg", "e.png"] },
    ]);
    expect(usesOf(sets).get("b.png")).toBe(2);
    expect(usesOf(sets).get("a.png")).toBe(1);
  });

  it("names the line of every problem", () => {
    expect(() => parseSets('["a"]', "s", 16)).toThrow(/s line 1: a set has 2 to 16 images, this one 1/);
    expect(() => parseSets('["a","b","c"]', "s", 2)).toThrow(/2 to 2 images/);
    expect(() => parseSets('["a","a"]', "s", 16)).toThrow(/listed twice/);
    expect(() => parseSets('["a","b"]\n{"id":"set-1","keys":["c","d"]}', "s", 16)).toThrow(
      /line 2: the id set-1 is used twice/,
    );
    expect(() => parseSets('{"id":"a/b","keys":["c","d"]}', "s", 16)).toThrow(/the id must be/);
    expect(() => parseSets("[1,2]", "s", 16)).toThrow(/expected a list of source keys/);
    expect(() => parseSets("x", "s", 16)).toThrow(/not JSON/);
    expect(() => parseSets("", "s", 16)).toThrow(/no sets/);
  });
});
