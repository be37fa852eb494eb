import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import type { Rgb } from "./images.ts";
import {
  SCENE_SHAPES,
  shapeMask,
  storeForOrientation,
  trimMask,
  type SceneMask,
  type SceneShape,
} from "./scenes-raster.ts";

export type { SceneMask, SceneShape } from "./scenes-raster.ts";
export { SCENE_SHAPES } from "./scenes-raster.ts";

/**
 * Output formats. No HEVC encoder is available here (sharp's libheif encodes AV1 only), so HEIF
 * output is AV1-coded: "avif" is sharp's output as is (ftyp avif, which sniffImage classifies as
 * avif, image/avif, a format Gemini does not take) and "heif" is the same file re-branded
 * mif1/miaf (classified as heif, image/heif), a valid HEIF that libheif and sharp decode.
 * "heic" is a real HEVC-coded HEIC, made by Debian's `heif-enc` (package libheif-examples, with
 * x265) when it is installed: what phones write, and what sharp's prebuilt libvips cannot decode.
 */
export type SceneFormat = "png" | "jpeg" | "webp" | "heif" | "avif" | "heic";

export interface GenerateSceneOptions {
  /** Display size: what a viewer shows after applying the orientation. */
  width: number;
  height: number;
  seed: number;
  /** How many shapes (default 4, at most SCENE_COLORS' length: each has its own colour). */
  shapes?: number;
  background?: Rgb;
  /** Default "png", or "jpeg" when an orientation is given. */
  format?: SceneFormat;
  /**
   * EXIF orientation 1-8. Other than 1, the stored pixels are turned so that the displayed image
   * (the orientation applied) is the scene; the tag is written as EXIF (JPEG, PNG eXIf, WebP) or
   * as irot/imir (HEIF, AVIF).
   */
  orientation?: number;
}

export interface SceneObject {
  /** "<colour> <shape>", e.g. "red circle": unique within a scene. */
  label: string;
  color: string;
  rgb: Rgb;
  shape: SceneShape;
  /** Tight bounds in display pixels, pixel edges: x0 <= x < x1, y0 <= y < y1. */
  box: [number, number, number, number];
  /** 1 where the object is, over its box. */
  mask: SceneMask;
}

export interface SceneTruth {
  /** Display size. */
  width: number;
  height: number;
  background: Rgb;
  objects: SceneObject[];
}

export interface GeneratedScene {
  bytes: Buffer;
  mime: string;
  truth: SceneTruth;
}

/** Saturated colours far apart in RGB, so a model (and a JPEG) cannot confuse them. */
export const SCENE_COLORS: readonly { name: string; rgb: Rgb }[] = [
  { name: "red", rgb: { r: 220, g: 30, b: 30 } },
  { name: "green", rgb: { r: 30, g: 170, b: 50 } },
  { name: "blue", rgb: { r: 30, g: 60, b: 220 } },
  { name: "yellow", rgb: { r: 240, g: 210, b: 20 } },
  { name: "magenta", rgb: { r: 210, g: 30, b: 200 } },
  { name: "cyan", rgb: { r: 20, g: 200, b: 210 } },
  { name: "orange", rgb: { r: 245, g: 130, b: 20 } },
  { name: "purple", rgb: { r: 120, g: 40, b: 190 } },
];

const DEFAULT_BACKGROUND: Rgb = { r: 245, g: 245, b: 240 };
const MIME: Record<SceneFormat, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
  heif: "image/heif",
  avif: "image/avif",
  heic: "image/heic",
};

/** mulberry32: small, fast and the same on every platform, so a seed always gives one scene. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A synthetic photo with known ground truth: distinct saturated shapes on a plain background,
 * never touching, placed by a seeded generator (same options, same scene). The truth is in
 * display pixels, whatever orientation the file is stored with.
 */
export async function generateScene(options: GenerateSceneOptions): Promise<GeneratedScene> {
  const { width, height, seed } = options;
  const count = options.shapes ?? 4;
  const orientation = options.orientation ?? 1;
  const format = options.format ?? (orientation === 1 ? "png" : "jpeg");
  const background = options.background ?? DEFAULT_BACKGROUND;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8) {
    throw new RangeError(`scene size must be at least 8x8 whole pixels, got ${width}x${height}`);
  }
  if (!Number.isInteger(orientation) || orientation < 1 || orientation > 8) {
    throw new RangeError(`orientation must be 1-8, got ${orientation}`);
  }
  if (!Number.isInteger(count) || count < 0 || count > SCENE_COLORS.length) {
    throw new RangeError(`shapes must be 0-${SCENE_COLORS.length}, got ${count}`);
  }
  const rng = seededRandom(seed);
  const objects = placeObjects(width, height, count, rng);
  const pixels = render(width, height, background, objects);
  const stored = storeForOrientation(pixels, width, height, orientation);
  const bytes = await encode(stored, format, orientation);
  return { bytes, mime: MIME[format], truth: { width, height, background, objects } };
}

function placeObjects(width: number, height: number, count: number, rng: () => number): SceneObject[] {
  const colors = [...SCENE_COLORS];
  for (let i = colors.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [colors[i], colors[j]] = [colors[j]!, colors[i]!];
  }
  const minDim = Math.min(width, height);
  const gap = Math.max(2, Math.round(minDim * 0.02));
  let maxSide = Math.max(4, Math.floor(minDim * 0.3));
  const placed: SceneObject[] = [];
  while (placed.length < count) {
    const color = colors[placed.length]!;
    const shape = SCENE_SHAPES[Math.floor(rng() * SCENE_SHAPES.length)]!;
    let done = false;
    for (let attempt = 0; attempt < 200 && !done; attempt++) {
      const side = Math.max(4, Math.floor(maxSide * (0.5 + rng() * 0.5)));
      if (side + 2 > width || side + 2 > height) break;
      const x = 1 + Math.floor(rng() * (width - side - 1));
      const y = 1 + Math.floor(rng() * (height - side - 1));
      const clear = placed.every(
        (o) =>
          x + side + gap <= o.box[0] ||
          o.box[2] + gap <= x ||
          y + side + gap <= o.box[1] ||
          o.box[3] + gap <= y,
      );
      if (!clear) continue;
      const { mask, dx, dy } = trimMask(shapeMask(shape, side));
      placed.push({
        label: `${color.name} ${shape}`,
        color: color.name,
        rgb: color.rgb,
        shape,
        box: [x + dx, y + dy, x + dx + mask.width, y + dy + mask.height],
        mask,
      });
      done = true;
    }
    if (done) continue;
    if (maxSide <= 4) throw new Error(`cannot place ${count} separate shapes in ${width}x${height}`);
    maxSide = Math.floor(maxSide * 0.8);
  }
  return placed;
}

function render(width: number, height: number, background: Rgb, objects: SceneObject[]): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    pixels[i * 3] = background.r;
    pixels[i * 3 + 1] = background.g;
    pixels[i * 3 + 2] = background.b;
  }
  for (const o of objects) {
    const [x0, y0] = o.box;
    for (let y = 0; y < o.mask.height; y++) {
      for (let x = 0; x < o.mask.width; x++) {
        if (o.mask.data[y * o.mask.width + x] === 0) continue;
        const at = ((y0 + y) * width + x0 + x) * 3;
        pixels[at] = o.rgb.r;
        pixels[at + 1] = o.rgb.g;
        pixels[at + 2] = o.rgb.b;
      }
    }
  }
  return pixels;
}

async function encode(
  stored: { data: Buffer; width: number; height: number },
  format: SceneFormat,
  orientation: number,
): Promise<Buffer> {
  let image = sharp(stored.data, { raw: { width: stored.width, height: stored.height, channels: 3 } });
  if (orientation !== 1) image = image.withMetadata({ orientation });
  switch (format) {
    case "png":
      return image.png().toBuffer();
    case "jpeg":
      return image.jpeg({ quality: 90 }).toBuffer();
    case "webp":
      return image.webp({ quality: 90 }).toBuffer();
    case "avif":
      return image.avif({ quality: 80 }).toBuffer();
    case "heif":
      return rebrandAsHeif(await image.heif({ compression: "av1", quality: 80 }).toBuffer());
    case "heic":
      if (orientation !== 1)
        throw new RangeError("HEVC HEIC scenes are upright only (heif-enc writes no rotation)");
      return encodeHeic(await image.png().toBuffer());
  }
}

/** Whether `heif-enc` with an HEVC encoder is on PATH (Debian: apt-get install libheif-examples). */
export function heicEncoderAvailable(): boolean {
  const probe = spawnSync("heif-enc", ["--list-encoders"], { encoding: "utf8" });
  return probe.status === 0 && /x265|HEVC/i.test(probe.stdout);
}

async function encodeHeic(png: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "tessera-heic-"));
  try {
    const input = join(dir, "scene.png");
    const output = join(dir, "scene.heic");
    await writeFile(input, png);
    await new Promise<void>((resolve, reject) => {
      execFile("heif-enc", ["-q", "90", "-o", output, input], (error, _stdout, stderr) =>
        error
          ? reject(
              new Error(`heif-enc failed (apt-get install libheif-examples): ${stderr || error.message}`),
            )
          : resolve(),
      );
    });
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Replaces the AVIF brands in the leading ftyp box with generic HEIF ones, in place. */
function rebrandAsHeif(file: Buffer): Buffer {
  const ftypSize = file.readUInt32BE(0);
  for (let at = 8; at + 4 <= ftypSize; at += 4) {
    if (at === 12) continue; // minor version
    const brand = file.toString("latin1", at, at + 4);
    if (brand === "avif" || brand === "avis") file.write(at === 8 ? "mif1" : "miaf", at, "latin1");
  }
  return file;
}

/** Whether display pixel (x, y) belongs to the object. */
export function objectCovers(object: SceneObject, x: number, y: number): boolean {
  const [x0, y0, x1, y1] = object.box;
  if (x < x0 || x >= x1 || y < y0 || y >= y1) return false;
  return object.mask.data[(y - y0) * object.mask.width + (x - x0)] === 1;
}
