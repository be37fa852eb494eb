import { SCENE_SHAPES, generateScene, type SceneObject } from "@tessera/testing";
import { describe, expect, it } from "vitest";
import { classifyShape } from "./shape-kind.ts";

/** A mask of `width` columns as pixel indices of a raster that is the mask's own box. */
function pixelsOf(width: number, height: number, inside: (x: number, y: number) => boolean): Int32Array {
  const pixels: number[] = [];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) if (inside(x, y)) pixels.push(y * width + x);
  return Int32Array.from(pixels);
}

function kindOf(object: SceneObject): string {
  const { width, height, data } = object.mask;
  return classifyShape(
    pixelsOf(width, height, (x, y) => data[y * width + x] === 1),
    width,
    [0, 0, width, height],
  );
}

describe("classifyShape", () => {
  it("names every shape generateScene draws, at sizes from tiny to large", async () => {
    const seen = new Set<string>();
    for (const [side, seed] of [
      [60, 1],
      [300, 2],
      [700, 3],
      [1200, 4],
    ] as const) {
      const { truth } = await generateScene({ width: side, height: side, seed, shapes: 8 });
      for (const object of truth.objects) {
        expect(kindOf(object), `${object.label} in ${side}px`).toBe(object.shape);
        seen.add(object.shape);
      }
    }
    expect([...seen].sort()).toEqual([...SCENE_SHAPES].sort());
  });

  it("tells a squashed square and circle from the real ones", () => {
    expect(
      classifyShape(
        pixelsOf(40, 20, () => true),
        40,
        [0, 0, 40, 20],
      ),
    ).toBe("rectangle");
    const ellipse = pixelsOf(40, 20, (x, y) => ((x + 0.5 - 20) / 20) ** 2 + ((y + 0.5 - 10) / 10) ** 2 <= 1);
    expect(classifyShape(ellipse, 40, [0, 0, 40, 20])).toBe("ellipse");
  });

  it("calls a triangle a triangle whichever way it points", () => {
    const apexLeft = pixelsOf(30, 30, (x, y) => Math.abs(y + 0.5 - 15) <= ((x + 0.5) / 30) * 15);
    expect(classifyShape(apexLeft, 30, [0, 0, 30, 30])).toBe("triangle");
    const ring = pixelsOf(30, 30, (x, y) => Math.abs(Math.hypot(x + 0.5 - 15, y + 0.5 - 15) - 13) < 1);
    expect(classifyShape(ring, 30, [0, 0, 30, 30])).toBe("shape");
  });
});
