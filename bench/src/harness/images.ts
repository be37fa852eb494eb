import sharp from "sharp";
import type { Storage } from "@tessera/storage";
import { seededRandom } from "@tessera/testing";

export interface PhotoOptions {
  width: number;
  height: number;
  seed: number;
  format: "jpeg" | "png";
  /** Noise is drawn at 1/grain of the size then smoothed up: larger grain, smoother and smaller file. */
  grain?: number;
  quality?: number;
  /**
   * Per-pixel noise (standard deviation, 0-255 scale) added at full size, like a camera sensor's:
   * it is what makes a 12 MP phone JPEG weigh megabytes, and downscaling averages it away.
   */
  sensorNoise?: number;
}

/**
 * A photo-like image: smooth random texture, so JPEG and PNG sizes are those of real photos
 * rather than of flat synthetic scenes (which compress to almost nothing).
 */
export async function makePhoto(options: PhotoOptions): Promise<Buffer> {
  const grain = options.grain ?? 4;
  const w = Math.max(1, Math.round(options.width / grain));
  const h = Math.max(1, Math.round(options.height / grain));
  // Seeded, so every run benchmarks the same bytes.
  const next = seededRandom(options.seed);
  const pixels = Buffer.alloc(w * h * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(next() * 256);
  let image = sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).resize(
    options.width,
    options.height,
    { kernel: "cubic", fit: "fill" },
  );
  const sigma = options.sensorNoise ?? 0;
  if (sigma > 0) {
    const full = await image.raw().toBuffer();
    for (let i = 0; i < full.length; i++) {
      // Sum of two uniforms: a cheap bell shape with the asked-for spread.
      const n = (next() + next() - 1) * sigma * 2.45;
      full[i] = Math.max(0, Math.min(255, Math.round(full[i]! + n)));
    }
    image = sharp(full, { raw: { width: options.width, height: options.height, channels: 3 } });
  }
  return options.format === "jpeg"
    ? image.jpeg({ quality: options.quality ?? 85 }).toBuffer()
    : image.png({ compressionLevel: 6 }).toBuffer();
}

/** Puts every object, `concurrency` at a time. */
export async function uploadAll(
  storage: Storage,
  count: number,
  object: (index: number) => { key: string; body: Buffer; contentType: string },
  concurrency = 32,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const { key, body, contentType } = object(next++);
        await storage.put(key, body, { contentType });
      }
    }),
  );
}
