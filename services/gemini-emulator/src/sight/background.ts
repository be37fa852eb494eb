// The plain background of a synthetic scene: the commonest colour along the image's edges, where
// generated shapes never reach.
import type { Raster, Rgb } from "./raster.ts";

/** Border rows and columns sampled on each side. */
const RING = 2;
/** 16 levels per channel: coarse enough that JPEG noise on a flat colour stays in one bin. */
const SHIFT = 4;

export function estimateBackground(raster: Raster): Rgb {
  const { width, height, data } = raster;
  const counts = new Map<number, { n: number; r: number; g: number; b: number }>();
  const add = (x: number, y: number): void => {
    const at = (y * width + x) * 3;
    const r = data[at]!;
    const g = data[at + 1]!;
    const b = data[at + 2]!;
    const key = ((r >> SHIFT) << 8) | ((g >> SHIFT) << 4) | (b >> SHIFT);
    const bin = counts.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
    bin.n += 1;
    bin.r += r;
    bin.g += g;
    bin.b += b;
    counts.set(key, bin);
  };
  const ring = Math.min(RING, Math.ceil(width / 2), Math.ceil(height / 2));
  for (let y = 0; y < height; y++) {
    const edgeRow = y < ring || y >= height - ring;
    for (let x = 0; x < width; x++) {
      if (edgeRow || x < ring || x >= width - ring) add(x, y);
    }
  }
  let best = { n: 0, r: 255, g: 255, b: 255 };
  // Ties go to the smaller key so the answer never depends on Map order.
  for (const [, bin] of [...counts.entries()].sort(([a], [b]) => a - b)) {
    if (bin.n > best.n) best = bin;
  }
  return best.n === 0
    ? { r: 255, g: 255, b: 255 }
    : { r: best.r / best.n, g: best.g / best.n, b: best.b / best.n };
}
