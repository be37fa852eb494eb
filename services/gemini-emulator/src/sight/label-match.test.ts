import { describe, expect, it } from "vitest";
import { bestLabel, isCatchAll, names, readSubject } from "./label-match.ts";
import { fakeShape } from "./test-support/fake-scene.ts";

const redCircle = fakeShape("red", "circle", [0, 0, 10, 10]);

describe("names", () => {
  it.each([
    ["red circle", true],
    ["Red Circles", true],
    ["circle", true],
    ["red", true],
    ["shapes", true],
    ["red object", true],
    ["blue circle", false],
    ["red square", false],
    ["dog", false],
    ["red dog", false],
    ["", false],
  ])("%j names a red circle: %s", (label, expected) => {
    expect(names(readSubject(label), redCircle)).toBe(expected);
  });
});

describe("bestLabel", () => {
  it("prefers the most specific label, then the earlier one", () => {
    expect(bestLabel(["shape", "circle", "red circle", "red"], redCircle)).toBe("red circle");
    expect(bestLabel(["red", "circle"], redCircle)).toBe("red");
    expect(bestLabel(["square", "dog"], redCircle)).toBeUndefined();
  });
});

describe("isCatchAll", () => {
  it("knows the labels that mean none of the others", () => {
    expect(["other", " None ", "unknown"].map(isCatchAll)).toEqual([true, true, true]);
    expect(isCatchAll("circle")).toBe(false);
  });
});
