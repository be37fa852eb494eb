import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { generateScene, type SceneObject } from "@tessera/testing";
import { prepareImage, type PreparedImage } from "./prepare.ts";
import { sniffImage } from "./sniff.ts";
import { encodeBmp } from "./test-support/bmp-encoder.ts";
import { hasSharedFixtures, orientationFixture, readFixture } from "./test-support/fixtures.ts";
import { pngWithHeader } from "./test-support/headers.ts";
import { withHeifTransforms } from "./test-support/heif-builder.ts";
import { boxToOriginal, toOriginalPixels } from "./transform.ts";

async function rejection(p: Promise<unknown>): Promise<TesseraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TesseraError);
  expect((err as TesseraError).errorClass).toBe("bad_image");
  return err as TesseraError;
}

async function pixels(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Bounding box and centroid, in sent pixels, of the pixels within `tolerance` of the object's colour. */
function findColour(
  image: { data: Buffer; width: number; height: number },
  object: SceneObject,
  tolerance = 60,
) {
  const box: [number, number, number, number] = [Infinity, Infinity, -1, -1];
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const at = (y * image.width + x) * 3;
      const d =
        Math.abs(image.data[at]! - object.rgb.r) +
        Math.abs(image.data[at + 1]! - object.rgb.g) +
        Math.abs(image.data[at + 2]! - object.rgb.b);
      if (d > tolerance) continue;
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x + 1);
      box[3] = Math.max(box[3], y + 1);
      sx += x + 0.5;
      sy += y + 0.5;
      n++;
    }
  }
  return { box, centroid: [sx / n, sy / n] as const };
}

/** The centroid of an object's mask in display pixels of the original. */
function truthCentroid(object: SceneObject): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < object.mask.height; y++) {
    for (let x = 0; x < object.mask.width; x++) {
      if (object.mask.data[y * object.mask.width + x] === 0) continue;
      sx += object.box[0] + x + 0.5;
      sy += object.box[1] + y + 0.5;
      n++;
    }
  }
  return [sx / n, sy / n];
}

describe("prepareImage: sending as is", () => {
  it("returns the very same bytes for an upright Gemini format that needs no resizing", async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#123" } })
      .png()
      .toBuffer();
    for (const detail of ["original", "standard", "low"] as const) {
      const prepared = await prepareImage(png, { detail, convert: "convert" });
      expect(prepared.bytes).toBe(png);
      expect(prepared).toMatchObject({ mime: "image/png", width: 300, height: 200, reencoded: false });
      expect(prepared.transform).toMatchObject({ orientation: 1, scaleX: 1, scaleY: 1 });
    }
  });

  it("still catches a torn file it would pass through, unless told not to check", async () => {
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#c84" } })
      .jpeg()
      .toBuffer();
    const torn = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
    const err = await rejection(prepareImage(torn, { detail: "original", convert: "convert" }));
    expect(err.message).toMatch(/^undecodable jpeg: /);
    const unchecked = await prepareImage(torn, { detail: "original", convert: "convert", verify: false });
    expect(unchecked.bytes).toBe(torn);
  });
});

describe("prepareImage: orientation and scaling", () => {
  it.each([2, 3, 5, 6, 7, 8])(
    "sends an orientation-%i JPEG upright, boxes mapping back onto the truth",
    async (orientation) => {
      const scene = await generateScene({
        width: 320,
        height: 200,
        seed: orientation,
        shapes: 4,
        orientation,
      });
      for (const [detail, maxSide] of [
        ["original", undefined],
        ["standard", 160],
      ] as const) {
        const prepared = await prepareImage(scene.bytes, {
          detail,
          convert: "convert",
          ...(maxSide ? { maxSide } : {}),
        });
        expect(prepared.reencoded).toBe(true);
        expect(prepared.mime).toBe("image/jpeg");
        expect({ width: prepared.width, height: prepared.height }).toEqual(
          detail === "original" ? { width: 320, height: 200 } : { width: 160, height: 100 },
        );
        expect(prepared.transform.orientation).toBe(orientation);
        const sent = await pixels(prepared.bytes);
        for (const object of scene.truth.objects) {
          const label = `${object.label}, ${detail}`;
          const found = findColour(sent, object);
          // Centroids agree to a pixel of the sent image; JPEG edges loosen the box a little more.
          const [cx, cy] = toOriginalPixels(prepared.transform, ...found.centroid);
          const [tx, ty] = truthCentroid(object);
          expect(Math.hypot(cx - tx, cy - ty), label).toBeLessThanOrEqual(1 / prepared.transform.scaleX);
          const back = boxToOriginal(prepared.transform, found.box);
          back.forEach((v, i) =>
            expect(Math.abs(v - object.box[i]!), label).toBeLessThanOrEqual(4 / prepared.transform.scaleX),
          );
        }
      }
    },
  );

  it("fits 'low' inside 384x384 and caps 'standard' at maxSide", async () => {
    const scene = await generateScene({ width: 1200, height: 900, seed: 3 });
    const low = await prepareImage(scene.bytes, { detail: "low", convert: "convert" });
    expect({ width: low.width, height: low.height }).toEqual({ width: 384, height: 288 });
    const standard = await prepareImage(scene.bytes, { detail: "standard", convert: "convert" });
    expect({ width: standard.width, height: standard.height }).toEqual({ width: 1024, height: 768 });
    expect((await sharp(standard.bytes).metadata()).width).toBe(1024);
    expect(standard.transform.scaleX).toBeCloseTo(1024 / 1200, 9);
  });

  it("drops the orientation tag from what it sends, so nobody rotates it twice", async () => {
    const scene = await generateScene({ width: 120, height: 80, seed: 1, orientation: 6 });
    const prepared = await prepareImage(scene.bytes, { detail: "original", convert: "convert" });
    expect((await sharp(prepared.bytes).metadata()).orientation).toBeUndefined();
  });
});

describe("prepareImage: output formats", () => {
  const base = sharp({ create: { width: 800, height: 600, channels: 3, background: "#3a7" } });

  const inputs: Record<string, () => Promise<Buffer>> = {
    png: () => base.clone().png().toBuffer(),
    jpeg: () => base.clone().jpeg().toBuffer(),
    webp: () => base.clone().webp().toBuffer(),
    "webp with alpha": () => base.clone().ensureAlpha(0.5).webp().toBuffer(),
    gif: () => base.clone().gif().toBuffer(),
    tiff: () => base.clone().tiff().toBuffer(),
    avif: () => base.clone().avif().toBuffer(),
    bmp: () =>
      Promise.resolve(
        encodeBmp({ width: 800, height: 600, rgb: Buffer.alloc(800 * 600 * 3, 120), bits: 24 }),
      ),
  };

  it.each([
    ["png", "image/png"],
    ["jpeg", "image/jpeg"],
    ["webp", "image/jpeg"],
    ["webp with alpha", "image/png"],
    ["gif", "image/png"],
    ["tiff", "image/png"],
    ["avif", "image/jpeg"],
    ["bmp", "image/png"],
  ] as const)("%s resized for 'low' goes out as %s", async (name, mime) => {
    const prepared = await prepareImage(await inputs[name]!(), { detail: "low", convert: "convert" });
    expect(prepared.mime).toBe(mime);
    expect(sniffImage(prepared.bytes)?.mime).toBe(mime);
    expect({ width: prepared.width, height: prepared.height }).toEqual({ width: 384, height: 288 });
    const meta = await sharp(prepared.bytes).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 384, height: 288 });
  });

  it("converts formats Gemini does not take even when no resizing is needed", async () => {
    const gif = await sharp({ create: { width: 40, height: 30, channels: 3, background: "red" } })
      .gif()
      .toBuffer();
    const prepared = await prepareImage(gif, { detail: "original", convert: "convert" });
    expect(prepared).toMatchObject({ mime: "image/png", width: 40, height: 30, reencoded: true });
  });

  it("refuses them under the skip policy, naming the policy", async () => {
    const small = sharp({ create: { width: 40, height: 30, channels: 3, background: "red" } });
    const inputs = [
      await small.clone().gif().toBuffer(),
      await small.clone().tiff().toBuffer(),
      await small.clone().avif().toBuffer(),
      encodeBmp({ width: 4, height: 4, rgb: Buffer.alloc(48), bits: 24 }),
    ];
    for (const bytes of inputs) {
      const err = await rejection(prepareImage(bytes, { detail: "original", convert: "skip" }));
      expect(err.message).toMatch(/^unsupported image format image\/(gif|tiff|avif|bmp) \(policy: skip\)$/);
    }
  });

  it("uses the JPEG quality it is given", async () => {
    const scene = await generateScene({ width: 900, height: 600, seed: 9, format: "jpeg" });
    const fine = await prepareImage(scene.bytes, { detail: "low", convert: "convert", jpegQuality: 95 });
    const coarse = await prepareImage(scene.bytes, { detail: "low", convert: "convert", jpegQuality: 30 });
    expect(coarse.bytes.length).toBeLessThan(fine.bytes.length);
  });

  it("rejects a decompression bomb from its header, before decoding", async () => {
    const err = await rejection(
      prepareImage(pngWithHeader(60_000, 60_000), { detail: "low", convert: "convert" }),
    );
    expect(err.message).toMatch(/^decompression bomb: /);
    const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    await expect(prepareImage(png, { detail: "low", convert: "convert", maxPixels: 9_999 })).rejects.toThrow(
      /bomb/,
    );
  });
});

describe.skipIf(!hasSharedFixtures)("prepareImage on the shared fixtures (needs ../shared/fixtures)", () => {
  async function thumbnail(bytes: Buffer): Promise<Buffer> {
    return sharp(bytes).resize(60, 40, { fit: "fill" }).removeAlpha().raw().toBuffer();
  }
  function distance(a: Buffer, b: Buffer): number {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    return sum / a.length;
  }

  it("turns every EXIF orientation of the landscape photo upright", async () => {
    const reference = await thumbnail(orientationFixture(1));
    const mirrored = await thumbnail(await sharp(orientationFixture(1)).flop().toBuffer());
    // The metric tells a mirror image apart, so a wrong orientation cannot pass.
    expect(distance(reference, mirrored)).toBeGreaterThan(15);
    for (const o of [2, 3, 4, 5, 6, 7, 8]) {
      const prepared = await prepareImage(orientationFixture(o), { detail: "standard", convert: "convert" });
      expect({ width: prepared.width, height: prepared.height }, `orientation ${o}`).toEqual({
        width: 1024,
        height: 683,
      });
      expect(distance(await thumbnail(prepared.bytes), reference), `orientation ${o}`).toBeLessThan(6);
    }
  });

  it("passes Landscape_0 (orientation tag 0) through as upright", async () => {
    const bytes = orientationFixture(0);
    const prepared = await prepareImage(bytes, { detail: "original", convert: "convert" });
    expect(prepared.bytes).toBe(bytes);
    expect(prepared.warnings).toEqual(["EXIF orientation 0 is not 1-8: treated as 1 (as stored)"]);
  });

  it("sends HEVC HEIC as is when nothing changes, and decodes it with libheif to resize", async () => {
    const heic = readFixture("heif/example.heic");
    const asIs: PreparedImage = await prepareImage(heic, { detail: "original", convert: "convert" });
    expect(asIs).toMatchObject({ mime: "image/heic", reencoded: false, width: 1280, height: 854 });
    expect(asIs.bytes).toBe(heic);
    expect(asIs.warnings.join()).toMatch(/HEVC/);
    const standard = await prepareImage(heic, { detail: "standard", convert: "convert" });
    expect(standard).toMatchObject({ mime: "image/jpeg", reencoded: true, width: 1024, height: 683 });
    expect(standard.warnings).toContain("HEVC-coded HEIF decoded with libheif (WebAssembly)");
    const meta = await sharp(standard.bytes).metadata();
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 1024, height: 683 });
  });

  it("bakes a HEIC's irot into the pixels it sends", async () => {
    const heic = withHeifTransforms(readFixture("heif/example.heic"), [{ irot: 1 }]);
    const prepared = await prepareImage(heic, { detail: "original", convert: "convert" });
    expect(prepared).toMatchObject({ mime: "image/jpeg", width: 854, height: 1280 });
    expect(prepared.transform.orientation).toBe(8);
    // A quarter turn anticlockwise puts the sky (the top) on the left.
    const sent = await pixels(prepared.bytes);
    const mean = [0, 0, 0];
    for (let y = 500; y < 800; y++)
      for (let x = 0; x < 80; x++)
        for (let c = 0; c < 3; c++) mean[c]! += sent.data[(y * sent.width + x) * 3 + c]!;
    expect(mean[2]!).toBeGreaterThan(mean[0]! * 1.2);
  });

  it("converts the AVIF fixture to JPEG", async () => {
    const prepared = await prepareImage(readFixture("heif/example.avif"), {
      detail: "original",
      convert: "convert",
    });
    expect(prepared).toMatchObject({ mime: "image/jpeg", width: 800, height: 533, reencoded: true });
  });
});
