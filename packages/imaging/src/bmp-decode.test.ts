import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { decodeBmp } from "./bmp-decode.ts";
import { encodeBmp, type BmpSpec } from "./test-support/bmp-encoder.ts";

// 7x3 with distinct colours per pixel, 7 wide so rows need padding at every bit depth.
const width = 7;
const height = 3;
function image(colours: number): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const c = i % colours;
    rgb.set([(c * 97) % 256, (c * 53 + 40) % 256, (c * 29 + 200) % 256], i * 3);
  }
  return rgb;
}

describe("decodeBmp", () => {
  it("decodes the canonical 2x2 example of the BMP format description", () => {
    // Bottom row first: red, white; then blue, green. Rows padded to 4 bytes.
    const bmp = Buffer.from(
      [
        "424d 46000000 0000 0000 36000000", // file header: size 70, pixels at 54
        "28000000 02000000 02000000 0100 1800 00000000 10000000 130b0000 130b0000 00000000 00000000",
        "0000ff ffffff 0000", // bottom row: red, white, padding
        "ff0000 00ff00 0000", // top row: blue, green, padding
      ]
        .join("")
        .replaceAll(" ", ""),
      "hex",
    );
    const decoded = decodeBmp(bmp);
    expect(decoded).toMatchObject({ width: 2, height: 2, channels: 3 });
    expect([...decoded.data]).toEqual([0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255]);
  });

  it.each<[string, Partial<BmpSpec>, number]>([
    ["24-bit bottom-up", { bits: 24 }, 21],
    ["24-bit top-down", { bits: 24, topDown: true }, 21],
    ["32-bit BI_RGB", { bits: 32 }, 21],
    ["8-bit palette", { bits: 8 }, 21],
    ["4-bit palette", { bits: 4 }, 16],
    ["1-bit palette", { bits: 1 }, 2],
    ["OS/2 core header, 24-bit", { bits: 24, core: true }, 21],
    ["OS/2 core header, 8-bit palette", { bits: 8, core: true }, 21],
  ])("decodes %s pixel for pixel", (_name, variant, colours) => {
    const rgb = image(colours);
    const decoded = decodeBmp(encodeBmp({ width, height, rgb, bits: 24, ...variant }));
    expect(decoded).toMatchObject({ width, height, channels: 3 });
    expect(decoded.data.equals(rgb)).toBe(true);
  });

  it("decodes 16-bit 5-5-5 and bit-field masks to within their precision", () => {
    const rgb = image(21);
    for (const variant of [
      { bits: 16 as const },
      { bits: 16 as const, masks: [0xf800, 0x07e0, 0x001f] as [number, number, number] },
      { bits: 32 as const, masks: [0x0000ff00, 0x00ff0000, 0xff000000] as [number, number, number] },
    ]) {
      const decoded = decodeBmp(encodeBmp({ width, height, rgb, ...variant }));
      const worst = Math.max(...Array.from(rgb, (v, i) => Math.abs(v - decoded.data[i]!)));
      expect(worst, JSON.stringify(variant)).toBeLessThanOrEqual(variant.bits === 16 ? 5 : 0);
    }
  });

  it("refuses RLE bitmaps and truncated pixel data as bad images", () => {
    const rle = encodeBmp({ width, height, rgb: image(4), bits: 8, compression: 1 });
    expect(() => decodeBmp(rle)).toThrow(TesseraError);
    expect(() => decodeBmp(rle)).toThrow("bmp: RLE8 bitmaps are not supported");
    const whole = encodeBmp({ width, height, rgb: image(21), bits: 24 });
    expect(() => decodeBmp(whole.subarray(0, whole.length - 1))).toThrow(/bmp: truncated pixel data/);
  });
});
