import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { Orientation } from "./orientation.ts";
import {
  composeOrientations,
  displayToStored,
  invertOrientation,
  orientationFromHeif,
  orientedSize,
  storedToDisplay,
} from "./orientation.ts";

const ALL: Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

describe("orientation algebra", () => {
  it("inverts: composing an orientation with its inverse is the identity", () => {
    for (const o of ALL) {
      expect(composeOrientations(o, invertOrientation(o))).toBe(1);
      expect(composeOrientations(invertOrientation(o), o)).toBe(1);
    }
    expect(invertOrientation(6)).toBe(8);
    expect(invertOrientation(5)).toBe(5);
  });

  it("composes quarter turns: two clockwise quarters are a half turn, a mirror twice is nothing", () => {
    expect(composeOrientations(6, 6)).toBe(3);
    expect(composeOrientations(6, 8)).toBe(1);
    expect(composeOrientations(2, 2)).toBe(1);
    expect(composeOrientations(2, 4)).toBe(3);
  });

  it("swaps width and height for 5-8 only", () => {
    expect(orientedSize({ width: 60, height: 20 }, 1)).toEqual({ width: 60, height: 20 });
    expect(orientedSize({ width: 60, height: 20 }, 4)).toEqual({ width: 60, height: 20 });
    expect(orientedSize({ width: 60, height: 20 }, 5)).toEqual({ width: 20, height: 60 });
    expect(orientedSize({ width: 60, height: 20 }, 8)).toEqual({ width: 20, height: 60 });
  });

  it("round-trips points between stored and display grids", () => {
    const stored = { width: 7, height: 3 };
    for (const o of ALL) {
      for (const [x, y] of [
        [0, 0],
        [7, 3],
        [2.5, 1.25],
        [7, 0],
      ] as const) {
        const [dx, dy] = storedToDisplay(o, stored, x, y);
        const display = orientedSize(stored, o);
        expect(dx).toBeGreaterThanOrEqual(0);
        expect(dx).toBeLessThanOrEqual(display.width);
        expect(dy).toBeGreaterThanOrEqual(0);
        expect(dy).toBeLessThanOrEqual(display.height);
        expect(displayToStored(o, stored, dx, dy)).toEqual([x, y]);
      }
    }
  });

  it.each(ALL)("maps stored pixels where sharp's autoOrient puts them (orientation %i)", async (o) => {
    // A 5x3 image whose every pixel is distinct: its value encodes its stored position.
    const width = 5;
    const height = 3;
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) raw.set([x * 50, y * 100, 7], (y * width + x) * 3);
    }
    const png = await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .withMetadata({ orientation: o })
      .toBuffer();
    const upright = await sharp(png).autoOrient().raw().toBuffer({ resolveWithObject: true });
    const display = orientedSize({ width, height }, o);
    expect(upright.info).toMatchObject(display);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // The centre of stored pixel (x, y) lands on the centre of one display pixel.
        const [dx, dy] = storedToDisplay(o, { width, height }, x + 0.5, y + 0.5);
        const at = (Math.floor(dy) * display.width + Math.floor(dx)) * 3;
        expect([upright.data[at], upright.data[at + 1]], `stored ${x},${y}`).toEqual([x * 50, y * 100]);
      }
    }
  });
});

describe("orientationFromHeif", () => {
  it("reads irot as anticlockwise quarter turns and imir axis 0/1 as top-bottom/left-right", () => {
    expect(orientationFromHeif([])).toBe(1);
    expect(orientationFromHeif([{ kind: "irot", angle: 1 }])).toBe(8);
    expect(orientationFromHeif([{ kind: "irot", angle: 2 }])).toBe(3);
    expect(orientationFromHeif([{ kind: "irot", angle: 3 }])).toBe(6);
    expect(orientationFromHeif([{ kind: "imir", axis: 0 }])).toBe(4);
    expect(orientationFromHeif([{ kind: "imir", axis: 1 }])).toBe(2);
  });

  it("applies the properties in their listed order", () => {
    // What sharp/libheif write for EXIF 5 and 7: rotate a quarter clockwise, then mirror.
    expect(
      orientationFromHeif([
        { kind: "irot", angle: 3 },
        { kind: "imir", axis: 1 },
      ]),
    ).toBe(5);
    expect(
      orientationFromHeif([
        { kind: "irot", angle: 3 },
        { kind: "imir", axis: 0 },
      ]),
    ).toBe(7);
    // Mirroring first and rotating second is a different transform.
    expect(
      orientationFromHeif([
        { kind: "imir", axis: 1 },
        { kind: "irot", angle: 3 },
      ]),
    ).toBe(7);
  });
});
