import { SCENE_COLORS } from "@tessera/testing";
import { describe, expect, it } from "vitest";
import { readWords, shapeColourName } from "./colour-words.ts";

describe("shapeColourName", () => {
  it.each(SCENE_COLORS.map((c) => [c.name, c.rgb] as const))("names generateScene's %s", (name, rgb) => {
    expect(shapeColourName(rgb)).toBe(name);
  });

  it("keeps dark purples purple and the default scene background white", () => {
    expect(shapeColourName({ r: 128, g: 0, b: 128 })).toBe("purple");
    expect(shapeColourName({ r: 245, g: 245, b: 240 })).toBe("white");
  });
});

describe("readWords", () => {
  it("reads colours, shapes and generic words, singular or plural, and drops filler", () => {
    expect(readWords("The grey Circles in the image")).toEqual([
      { kind: "colour", value: "gray" },
      { kind: "shape", value: "circle" },
    ]);
    expect(readWords("any boxes or shapes")).toEqual([
      { kind: "other", value: "boxes" },
      { kind: "other", value: "or" },
      { kind: "generic" },
    ]);
  });
});
