import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { generateScene } from "@tessera/testing";
import { bufferReader, type RangeReader } from "./header-reader.ts";
import { probeImage } from "./probe.ts";
import { encodeBmp } from "./test-support/bmp-encoder.ts";
import { hasSharedFixtures, orientationFixture, readFixture } from "./test-support/fixtures.ts";

function probeBytes(bytes: Buffer, withSize = true): ReturnType<typeof probeImage> {
  return probeImage(bufferReader(bytes), withSize ? { size: bytes.length } : {});
}

const photo = sharp({ create: { width: 301, height: 157, channels: 3, background: "#2a6" } });

describe("probeImage on encoder output", () => {
  it.each([
    ["png", () => photo.clone().png().toBuffer(), "image/png", true],
    ["jpeg", () => photo.clone().jpeg().toBuffer(), "image/jpeg", true],
    ["webp", () => photo.clone().webp().toBuffer(), "image/webp", true],
    ["webp", () => photo.clone().webp({ lossless: true }).toBuffer(), "image/webp", true],
    ["webp", () => photo.clone().ensureAlpha(0.5).webp().toBuffer(), "image/webp", true],
    ["gif", () => photo.clone().gif().toBuffer(), "image/gif", false],
    ["tiff", () => photo.clone().tiff().toBuffer(), "image/tiff", false],
    ["avif", () => photo.clone().avif().toBuffer(), "image/avif", false],
  ] as const)("reads %s size and format (%#)", async (format, make, mime, geminiSupported) => {
    const bytes = await make();
    for (const withSize of [true, false]) {
      expect(await probeBytes(bytes, withSize)).toMatchObject({
        format,
        mime,
        geminiSupported,
        width: 301,
        height: 157,
        orientation: 1,
        displayWidth: 301,
        displayHeight: 157,
        warnings: [],
      });
    }
  });

  it("reads BMP, bottom-up, top-down and OS/2", async () => {
    const rgb = Buffer.alloc(5 * 3 * 3, 200);
    for (const variant of [{}, { topDown: true }, { core: true }]) {
      const bmp = encodeBmp({ width: 5, height: 3, rgb, bits: 24, ...variant });
      expect(await probeBytes(bmp)).toMatchObject({
        format: "bmp",
        width: 5,
        height: 3,
        geminiSupported: false,
      });
    }
  });

  it("classifies the scene generator's AV1 HEIF as heif and its AVIF as avif", async () => {
    for (const [format, mime, geminiSupported] of [
      ["heif", "image/heif", true],
      ["avif", "image/avif", false],
    ] as const) {
      const scene = await generateScene({ width: 64, height: 48, seed: 1, format, orientation: 8 });
      expect(scene.mime).toBe(mime);
      expect(await probeBytes(scene.bytes)).toMatchObject({
        format,
        mime,
        geminiSupported,
        orientation: 8,
        displayWidth: 64,
        displayHeight: 48,
      });
    }
  });

  it.each([2, 3, 4, 5, 6, 7, 8])(
    "reads orientation %i from JPEG, PNG eXIf, WebP EXIF, TIFF and HEIF irot/imir as sharp does",
    async (orientation) => {
      const formats = ["jpeg", "png", "webp", "tiff", "avif"] as const;
      for (const format of formats) {
        const bytes = await photo.clone().toFormat(format).withMetadata({ orientation }).toBuffer();
        const probed = await probeBytes(bytes);
        const meta = await sharp(bytes).metadata();
        expect(probed.orientation, format).toBe(orientation);
        expect({ width: probed.displayWidth, height: probed.displayHeight }, format).toEqual(meta.autoOrient);
        expect(probed.displayWidth, format).toBe(orientation >= 5 ? 157 : 301);
      }
    },
  );

  it("reads a 10 MB JPEG from a few KiB", async () => {
    // Noise does not compress: the file is as large as a real high-resolution photo.
    const width = 2400;
    const height = 1800;
    const noise = Buffer.alloc(width * height * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const jpeg = await sharp(noise, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: "4:4:4" })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(jpeg.length).toBeGreaterThan(10_000_000);
    const asked: number[] = [];
    const read: RangeReader = (start, end) => {
      asked.push(end - start + 1);
      return bufferReader(jpeg)(start, end);
    };
    const probed = await probeImage(read, { size: jpeg.length });
    expect(probed).toMatchObject({
      width,
      height,
      orientation: 6,
      displayWidth: height,
      displayHeight: width,
    });
    expect(probed.bytesRead).toBeLessThanOrEqual(8 * 1024);
    expect(asked).toHaveLength(1);
  });

  it("honours a smaller first read and grows only as far as the header needs", async () => {
    const jpeg = await photo.clone().jpeg().withMetadata({ orientation: 3 }).toBuffer();
    const probed = await probeImage(bufferReader(jpeg), { size: jpeg.length, initialBytes: 64 });
    expect(probed.orientation).toBe(3);
    expect(probed.width).toBe(301);
    expect(probed.bytesRead).toBeLessThan(jpeg.length);
  });
});

describe.skipIf(!hasSharedFixtures)("probeImage on the shared fixtures (needs ../shared/fixtures)", () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8])(
    "Landscape_%i.jpg: display size equals what sharp's autoOrient reports",
    async (orientation) => {
      const bytes = orientationFixture(orientation);
      const probed = await probeBytes(bytes);
      const meta = await sharp(bytes).metadata();
      expect(probed.format).toBe("jpeg");
      expect({ width: probed.width, height: probed.height }).toEqual({
        width: meta.width,
        height: meta.height,
      });
      expect({ width: probed.displayWidth, height: probed.displayHeight }).toEqual(meta.autoOrient);
      expect({ width: probed.displayWidth, height: probed.displayHeight }).toEqual({
        width: 1800,
        height: 1200,
      });
      // 0 is out of range: treated as upright, as sharp does, with a warning.
      expect(probed.orientation).toBe(orientation === 0 ? 1 : orientation);
      expect(probed.warnings).toHaveLength(orientation === 0 ? 1 : 0);
      expect(probed.bytesRead).toBeLessThanOrEqual(8 * 1024);
    },
  );

  it.each([
    ["heif/example.heic", "heic", "image/heic", true],
    ["heif/example.avif", "avif", "image/avif", false],
  ] as const)("%s: size agrees with sharp's metadata", async (name, format, mime, geminiSupported) => {
    const bytes = readFixture(name);
    const probed = await probeBytes(bytes);
    const meta = await sharp(bytes).metadata();
    expect(probed).toMatchObject({ format, mime, geminiSupported, orientation: 1 });
    expect({ width: probed.displayWidth, height: probed.displayHeight }).toEqual({
      width: meta.width,
      height: meta.height,
    });
    expect(probed.bytesRead).toBeLessThanOrEqual(8 * 1024);
  });
});
