import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { SCENE_COLORS, generateScene, objectCovers, type SceneTruth } from "./scenes.ts";

/** The display image the truth describes, pixel for pixel. */
function expectedPixels(truth: SceneTruth): Buffer {
  const out = Buffer.alloc(truth.width * truth.height * 3);
  for (let y = 0; y < truth.height; y++) {
    for (let x = 0; x < truth.width; x++) {
      const object = truth.objects.find((o) => objectCovers(o, x, y));
      const c = object?.rgb ?? truth.background;
      out.set([c.r, c.g, c.b], (y * truth.width + x) * 3);
    }
  }
  return out;
}

async function upright(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes)
    .autoOrient()
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function near(
  image: { data: Buffer; width: number },
  x: number,
  y: number,
  c: { r: number; g: number; b: number },
): boolean {
  const at = (y * image.width + x) * 3;
  return (
    Math.abs(image.data[at]! - c.r) +
      Math.abs(image.data[at + 1]! - c.g) +
      Math.abs(image.data[at + 2]! - c.b) <=
    45
  );
}

describe("generateScene ground truth", () => {
  it("colours exactly the mask pixels of each object, and nothing else (PNG)", async () => {
    const scene = await generateScene({ width: 240, height: 160, seed: 42, shapes: 6 });
    expect(scene.mime).toBe("image/png");
    expect(scene.truth.objects).toHaveLength(6);
    const decoded = await upright(scene.bytes);
    expect(decoded.data.equals(expectedPixels(scene.truth))).toBe(true);
    for (const object of scene.truth.objects) {
      expect(object.label).toBe(`${object.color} ${object.shape}`);
      const [x0, y0, x1, y1] = object.box;
      expect([object.mask.width, object.mask.height]).toEqual([x1 - x0, y1 - y0]);
      // Tight: every edge row and column of the box holds part of the shape.
      const { width, height, data } = object.mask;
      expect(data.subarray(0, width).includes(1)).toBe(true);
      expect(data.subarray((height - 1) * width).includes(1)).toBe(true);
      expect(Array.from({ length: height }, (_, y) => data[y * width]).includes(1)).toBe(true);
      expect(Array.from({ length: height }, (_, y) => data[y * width + width - 1]).includes(1)).toBe(true);
    }
  });

  it("keeps objects apart, inside the frame, with distinct colours", async () => {
    for (let seed = 0; seed < 20; seed++) {
      const { truth } = await generateScene({ width: 200, height: 150, seed, shapes: SCENE_COLORS.length });
      expect(new Set(truth.objects.map((o) => o.color)).size).toBe(SCENE_COLORS.length);
      for (const [i, a] of truth.objects.entries()) {
        expect(a.box[0]).toBeGreaterThanOrEqual(0);
        expect(a.box[2]).toBeLessThanOrEqual(200);
        expect(a.box[3]).toBeLessThanOrEqual(150);
        for (const b of truth.objects.slice(i + 1)) {
          const apart =
            a.box[2] + 2 <= b.box[0] ||
            b.box[2] + 2 <= a.box[0] ||
            a.box[3] + 2 <= b.box[1] ||
            b.box[3] + 2 <= a.box[1];
          expect(apart, `seed ${seed}: ${a.label} / ${b.label}`).toBe(true);
        }
      }
    }
  });

  it("is deterministic by seed", async () => {
    const a = await generateScene({ width: 160, height: 120, seed: 7, format: "jpeg" });
    const b = await generateScene({ width: 160, height: 120, seed: 7, format: "jpeg" });
    const c = await generateScene({ width: 160, height: 120, seed: 8, format: "jpeg" });
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.truth).toEqual(b.truth);
    expect(c.truth.objects.map((o) => o.box)).not.toEqual(a.truth.objects.map((o) => o.box));
  });
});

describe("generateScene with an EXIF orientation", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "orientation %i: the displayed PNG is the scene, pixel for pixel",
    async (orientation) => {
      const scene = await generateScene({
        width: 90,
        height: 60,
        seed: orientation,
        orientation,
        format: "png",
      });
      const meta = await sharp(scene.bytes).metadata();
      expect(meta.orientation ?? 1).toBe(orientation);
      // Stored turned a quarter for 5-8.
      expect(meta.width).toBe(orientation >= 5 ? 60 : 90);
      const decoded = await upright(scene.bytes);
      expect({ width: decoded.width, height: decoded.height }).toEqual({ width: 90, height: 60 });
      expect(decoded.data.equals(expectedPixels(scene.truth))).toBe(true);
    },
  );

  it.each([2, 3, 4, 5, 6, 7, 8])(
    "orientation %i: a JPEG by default, each object's colour at its centre",
    async (orientation) => {
      const scene = await generateScene({ width: 300, height: 200, seed: 100 + orientation, orientation });
      expect(scene.mime).toBe("image/jpeg");
      const decoded = await upright(scene.bytes);
      expect({ width: decoded.width, height: decoded.height }).toEqual({ width: 300, height: 200 });
      for (const object of scene.truth.objects) {
        const x = Math.floor((object.box[0] + object.box[2]) / 2);
        const y = Math.floor((object.box[1] + object.box[3]) / 2);
        expect(objectCovers(object, x, y)).toBe(true);
        expect(near(decoded, x, y, object.rgb), object.label).toBe(true);
      }
    },
  );
});

describe("generateScene in HEIF containers (AV1: no HEVC encoder here)", () => {
  it.each([
    ["heif", "image/heif", "mif1"],
    ["avif", "image/avif", "avif"],
  ] as const)("%s: brands, orientation as irot/imir, colours", async (format, mime, major) => {
    const scene = await generateScene({ width: 160, height: 96, seed: 5, format, orientation: 6 });
    expect(scene.mime).toBe(mime);
    const ftyp = scene.bytes.subarray(0, scene.bytes.readUInt32BE(0)).toString("latin1");
    expect(ftyp.slice(8, 12)).toBe(major);
    if (format === "heif") expect(ftyp).not.toContain("avif");
    const meta = await sharp(scene.bytes).metadata();
    // libheif applies irot: sharp reports the display size.
    expect({ width: meta.width, height: meta.height }).toEqual({ width: 160, height: 96 });
    const decoded = await upright(scene.bytes);
    for (const object of scene.truth.objects) {
      const x = Math.floor((object.box[0] + object.box[2]) / 2);
      const y = Math.floor((object.box[1] + object.box[3]) / 2);
      expect(near(decoded, x, y, object.rgb), object.label).toBe(true);
    }
  });
});

describe("generateScene arguments", () => {
  it("refuses impossible requests with a clear error", async () => {
    await expect(generateScene({ width: 100, height: 100, seed: 1, shapes: 9 })).rejects.toThrow(
      /shapes must be 0-8/,
    );
    await expect(generateScene({ width: 100, height: 100, seed: 1, orientation: 9 })).rejects.toThrow(
      /orientation must be 1-8/,
    );
    await expect(generateScene({ width: 4, height: 100, seed: 1 })).rejects.toThrow(/at least 8x8/);
    await expect(generateScene({ width: 12, height: 12, seed: 1, shapes: 8 })).rejects.toThrow(
      /cannot place 8/,
    );
  });
});
