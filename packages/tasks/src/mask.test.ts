import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeMask } from "./mask-decode.ts";
import { maskArea, maskAt, placeMask, resizeBilinear, type PlacedMask } from "./mask-raster.ts";
import { encodeMaskPng } from "./png-encode.ts";
import { decodeRle, rleArea, rleFromMask } from "./rle.ts";
import type { Problem } from "./warnings.ts";

async function grayPng(
  width: number,
  height: number,
  pixel: (x: number, y: number) => number,
): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = pixel(x, y);
  return sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

const disc = (x: number, y: number): number => ((x - 127.5) ** 2 + (y - 127.5) ** 2 <= 100 ** 2 ? 255 : 0);

async function decode(value: unknown): Promise<{ size?: string; codes: string[] }> {
  const problems: Problem[] = [];
  const map = await decodeMask(value, "item 0", problems);
  return {
    ...(map === undefined ? {} : { size: `${map.width}x${map.height}` }),
    codes: problems.map((p) => p.code),
  };
}

describe("decodeMask", () => {
  it("decodes the guide's data URL, and raw base64 with a warning", async () => {
    const png = (await grayPng(256, 256, disc)).toString("base64");
    expect(await decode(`data:image/png;base64,${png}`)).toEqual({ size: "256x256", codes: [] });
    expect(await decode(png)).toEqual({ size: "256x256", codes: ["mask_without_prefix"] });
    // Line-wrapped base64 is still base64.
    expect(await decode(`data:image/png;base64,${png.replace(/(.{76})/g, "$1\n")}`)).toEqual({
      size: "256x256",
      codes: [],
    });
  });

  it("reads RGB, RGBA and 16-bit PNGs as 8-bit grey", async () => {
    const rgb = await sharp({
      create: { width: 4, height: 3, channels: 3, background: { r: 200, g: 200, b: 200 } },
    })
      .png()
      .toBuffer();
    const rgba = await sharp({
      create: { width: 4, height: 3, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const deep = await sharp(Buffer.alloc(4 * 3, 0xff), { raw: { width: 4, height: 3, channels: 1 } })
      .toColourspace("grey16")
      .png()
      .toBuffer();
    expect((await sharp(deep).metadata()).bitsPerSample).toBe(16);
    for (const png of [rgb, rgba, deep]) {
      const problems: Problem[] = [];
      const map = await decodeMask(`data:image/png;base64,${png.toString("base64")}`, "item 0", problems);
      expect(problems).toEqual([]);
      expect(map).toMatchObject({ width: 4, height: 3 });
      expect(map!.data.length).toBe(12);
      expect(map!.data[0]).toBeGreaterThan(127);
    }
  });

  it("records every unusable mask as a counted warning, never a crash", async () => {
    const png = await grayPng(16, 16, () => 255);
    expect(await decode(undefined)).toEqual({ codes: ["mask_missing"] });
    expect(await decode("")).toEqual({ codes: ["mask_missing"] });
    expect(await decode(42)).toEqual({ codes: ["mask_missing"] });
    expect(await decode("<seg_12><seg_40><seg_3>")).toEqual({ codes: ["mask_not_png"] });
    expect(await decode("data:image/jpeg;base64,/9j/4AAQ")).toEqual({ codes: ["mask_not_png"] });
    expect(await decode("data:image/png;base64,iVBOR%%w0KGgo!")).toEqual({ codes: ["mask_bad_base64"] });
    expect(await decode("data:image/png;base64,aGVsbG8gd29ybGQ=")).toEqual({ codes: ["mask_not_png"] });
    const torn = png.subarray(0, png.length - 20).toString("base64");
    expect(await decode(`data:image/png;base64,${torn}`)).toEqual({ codes: ["mask_undecodable"] });
  });

  it("refuses masks whose header claims an enormous size", async () => {
    const huge = encodeMaskPng({
      frame: { width: 5000, height: 5000 },
      box: [0, 0, 1, 1],
      data: Uint8Array.from([1]),
    });
    expect(await decode(`data:image/png;base64,${huge.toString("base64")}`)).toEqual({
      codes: ["mask_undecodable"],
    });
  });
});

describe("resizeBilinear", () => {
  it("aligns pixel centres when enlarging", () => {
    const out = resizeBilinear({ width: 2, height: 1, data: Uint8Array.from([0, 200]) }, 4, 1);
    // Sample points -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    expect([...out]).toEqual([0, 50, 150, 200]);
  });

  it("keeps an image resized to its own size and averages when halving", () => {
    const src = { width: 3, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    expect([...resizeBilinear(src, 3, 2)]).toEqual([1, 2, 3, 4, 5, 6]);
    const halve = resizeBilinear({ width: 2, height: 2, data: Uint8Array.from([0, 100, 200, 100]) }, 1, 1);
    expect([...halve]).toEqual([100]);
  });
});

describe("placeMask", () => {
  it("fits the map to the box, keeps values above 127 and places it in the frame", () => {
    const map = { width: 2, height: 1, data: Uint8Array.from([127, 128]) };
    const placed = placeMask(map, [3, 1, 5, 2], { width: 8, height: 4 });
    expect(placed.box).toEqual([3, 1, 5, 2]);
    expect([...placed.data]).toEqual([0, 1]);
    expect(maskArea(placed)).toBe(1);
    expect(maskAt(placed, 4, 1)).toBe(true);
    expect(maskAt(placed, 3, 1)).toBe(false);
    expect(maskAt(placed, 4, 2)).toBe(false);
  });

  it("stretches a square map over a wide box", () => {
    const square = { width: 4, height: 4, data: new Uint8Array(16).fill(255) };
    const placed = placeMask(square, [0, 0, 40, 2], { width: 40, height: 2 });
    expect(maskArea(placed)).toBe(80);
  });
});

function randomMask(seed: number, frame: { width: number; height: number }): PlacedMask {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const x0 = Math.floor(rnd() * frame.width);
  const y0 = Math.floor(rnd() * frame.height);
  const x1 = x0 + 1 + Math.floor(rnd() * (frame.width - x0));
  const y1 = y0 + 1 + Math.floor(rnd() * (frame.height - y0));
  const data = Uint8Array.from({ length: (x1 - x0) * (y1 - y0) }, () => (rnd() < 0.6 ? 1 : 0));
  return { frame, box: [x0, y0, x1, y1], data };
}

/** The spec's definition, pixel by pixel: column-major runs starting with zeros. */
function bruteRle(mask: PlacedMask): number[] {
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let x = 0; x < mask.frame.width; x++) {
    for (let y = 0; y < mask.frame.height; y++) {
      const v = maskAt(mask, x, y) ? 1 : 0;
      if (v !== value) {
        counts.push(run);
        value = v;
        run = 0;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

describe("COCO RLE", () => {
  it("encodes column-major runs starting with zeros", () => {
    // Rows: [0 1 1], [0 1 0] -> columns 00 11 10 -> runs 2 zeros, 3 ones, 1 zero.
    const mask: PlacedMask = {
      frame: { width: 3, height: 2 },
      box: [0, 0, 3, 2],
      data: Uint8Array.from([0, 1, 1, 0, 1, 0]),
    };
    expect(rleFromMask(mask)).toEqual({ size: [2, 3], counts: [2, 3, 1] });
    const firstSet: PlacedMask = {
      frame: { width: 2, height: 2 },
      box: [0, 0, 1, 1],
      data: Uint8Array.from([1]),
    };
    expect(rleFromMask(firstSet)).toEqual({ size: [2, 2], counts: [0, 1, 3] });
  });

  it("matches the pixel-by-pixel definition and decodes back", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const frame = { width: 7 + (seed % 5), height: 5 + (seed % 7) };
      const mask = randomMask(seed, frame);
      const rle = rleFromMask(mask);
      expect(rle.counts).toEqual(bruteRle(mask));
      expect(rle.counts.reduce((a, b) => a + b, 0)).toBe(frame.width * frame.height);
      expect(rleArea(rle)).toBe(maskArea(mask));
      const decoded = decodeRle(rle);
      for (let y = 0; y < frame.height; y++) {
        for (let x = 0; x < frame.width; x++)
          expect(decoded[y * frame.width + x] === 1).toBe(maskAt(mask, x, y));
      }
    }
  });

  it("refuses counts that do not cover the image", () => {
    expect(() => decodeRle({ size: [2, 2], counts: [1, 2] })).toThrow(/sum to 3, expected 4/);
  });
});

describe("encodeMaskPng", () => {
  it("writes a 1-bit PNG of the whole frame that decoders read back exactly", async () => {
    for (const seed of [3, 8, 21]) {
      const mask = randomMask(seed, { width: 13, height: 9 });
      const png = encodeMaskPng(mask);
      const meta = await sharp(png).metadata();
      expect(meta).toMatchObject({ format: "png", width: 13, height: 9, channels: 1 });
      const data = await sharp(png).extractChannel(0).raw().toBuffer();
      for (let y = 0; y < 9; y++) {
        for (let x = 0; x < 13; x++) expect(data[y * 13 + x]).toBe(maskAt(mask, x, y) ? 255 : 0);
      }
    }
  });

  it("stays small for a large photo", () => {
    const frame = { width: 4032, height: 3024 };
    const data = new Uint8Array(500 * 400).fill(1);
    expect(encodeMaskPng({ frame, box: [100, 100, 600, 500], data }).length).toBeLessThan(8_000);
  });
});
