import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { decodeHeif } from "./heic-decode.ts";
import { hasSharedFixtures, readFixture } from "./test-support/fixtures.ts";
import { withHeifTransforms } from "./test-support/heif-builder.ts";

function meanRgb(
  d: { data: Buffer; width: number },
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number[] {
  const sum = [0, 0, 0];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) sum[c]! += d.data[(y * d.width + x) * 3 + c]!;
  }
  return sum.map((s) => s / ((x1 - x0) * (y1 - y0)));
}

describe.skipIf(!hasSharedFixtures)("decodeHeif on the HEVC fixture (needs ../shared/fixtures)", () => {
  it("decodes the picture sharp cannot: a town under a blue sky", () => {
    const heic = readFixture("heif/example.heic");
    const image = decodeHeif(heic);
    expect(image).toMatchObject({ width: 1280, height: 854, channels: 3 });
    expect(image.data.length).toBe(1280 * 854 * 3);
    // Top centre is sky, bottom left is the river's dark water: a garbled decode has neither.
    const [r, g, b] = meanRgb(image, 500, 0, 900, 100);
    expect(b).toBeGreaterThan(r! + 40);
    expect(b).toBeGreaterThan(g!);
    expect(Math.max(...meanRgb(image, 0, 750, 200, 854))).toBeLessThan(120);
  });

  it("applies irot and imir while decoding, as the probe's orientation says", async () => {
    const heic = readFixture("heif/example.heic");
    const upright = decodeHeif(heic);
    const turned = decodeHeif(withHeifTransforms(heic, [{ irot: 1 }]));
    expect(turned).toMatchObject({ width: 854, height: 1280 });
    // irot 1 is a quarter turn anticlockwise; sharp rotates clockwise, so 270.
    const expected = await sharp(upright.data, { raw: { width: 1280, height: 854, channels: 3 } })
      .rotate(270)
      .raw()
      .toBuffer();
    expect(turned.data.equals(expected)).toBe(true);
    const mirrored = decodeHeif(withHeifTransforms(heic, [{ imir: 1 }]));
    const flopped = await sharp(upright.data, { raw: { width: 1280, height: 854, channels: 3 } })
      .flop()
      .raw()
      .toBuffer();
    expect(mirrored.data.equals(flopped)).toBe(true);
  });

  it("throws bad_image for a truncated file", () => {
    const heic = readFixture("heif/example.heic");
    expect(() => decodeHeif(heic.subarray(0, 5000))).toThrow(TesseraError);
    expect(() => decodeHeif(heic.subarray(0, 5000))).toThrow(/undecodable heif: .*end of file/i);
  });
});

describe("decodeHeif", () => {
  it("throws bad_image for bytes that are not HEIF", () => {
    expect(() => decodeHeif(Buffer.from("definitely not a heif file"))).toThrow(/^undecodable heif: /);
  });
});
