// The flat colours of a scene's shapes, found from the inside of regions (where JPEG and resizing
// leave the colour alone) rather than from edges, which are blends with the background.
import type { Raster, Rgb } from "./raster.ts";
import { distance2 } from "./raster.ts";

export interface ColourCluster {
  rgb: Rgb;
  /** Interior pixels that gave this colour. */
  count: number;
}

/** Closer to the background than this is background, not a shape's interior. */
const FOREGROUND_MIN = 60;
/** Neighbours two pixels away must be this close (per channel) for a pixel to count as interior. */
const FLAT_TOLERANCE = 24;
/** Colour bins of 8 levels per channel. */
const SHIFT = 3;
/** Bins within this distance of a cluster join it: JPEG spreads a flat colour over a few bins. */
const MERGE_DISTANCE = 40;
/** A colour lying this close to the line from the background to a cluster is a blend of the two. */
const BLEND_RESIDUAL = 25;

export function findColourClusters(raster: Raster, background: Rgb, minSeed: number): ColourCluster[] {
  const { width, height, data } = raster;
  const bins = new Map<number, { n: number; r: number; g: number; b: number }>();
  const step = 2;
  for (let y = step; y < height - step; y++) {
    for (let x = step; x < width - step; x++) {
      const at = (y * width + x) * 3;
      const r = data[at]!;
      const g = data[at + 1]!;
      const b = data[at + 2]!;
      if (distance2(background, r, g, b) < FOREGROUND_MIN ** 2) continue;
      if (!flatAround(data, at, width * 3 * step, 3 * step, r, g, b)) continue;
      const key = ((r >> SHIFT) << 10) | ((g >> SHIFT) << 5) | (b >> SHIFT);
      const bin = bins.get(key) ?? { n: 0, r: 0, g: 0, b: 0 };
      bin.n += 1;
      bin.r += r;
      bin.g += g;
      bin.b += b;
      bins.set(key, bin);
    }
  }
  const ordered = [...bins.entries()].sort(([ka, a], [kb, b]) => b.n - a.n || ka - kb).map(([, bin]) => bin);
  const clusters: { n: number; r: number; g: number; b: number }[] = [];
  for (const bin of ordered) {
    const mean = { r: bin.r / bin.n, g: bin.g / bin.n, b: bin.b / bin.n };
    const home = clusters.find(
      (c) =>
        distance2({ r: c.r / c.n, g: c.g / c.n, b: c.b / c.n }, mean.r, mean.g, mean.b) < MERGE_DISTANCE ** 2,
    );
    if (home !== undefined) {
      home.n += bin.n;
      home.r += bin.r;
      home.g += bin.g;
      home.b += bin.b;
      continue;
    }
    if (bin.n < minSeed) continue;
    const blend = clusters.some((c) =>
      isBlend(background, { r: c.r / c.n, g: c.g / c.n, b: c.b / c.n }, mean),
    );
    if (!blend) clusters.push({ ...bin });
  }
  return clusters
    .filter((c) => c.n >= minSeed)
    .map((c) => ({ rgb: { r: c.r / c.n, g: c.g / c.n, b: c.b / c.n }, count: c.n }));
}

function flatAround(
  data: Uint8Array,
  at: number,
  rowStep: number,
  colStep: number,
  r: number,
  g: number,
  b: number,
): boolean {
  for (const offset of [-rowStep, rowStep, -colStep, colStep]) {
    const o = at + offset;
    if (
      Math.abs(data[o]! - r) > FLAT_TOLERANCE ||
      Math.abs(data[o + 1]! - g) > FLAT_TOLERANCE ||
      Math.abs(data[o + 2]! - b) > FLAT_TOLERANCE
    ) {
      return false;
    }
  }
  return true;
}

/** Where `colour` lies on the background-to-`shape` line: t in 0..1 means a mix of the two. */
function project(
  background: Rgb,
  shape: Rgb,
  r: number,
  g: number,
  b: number,
): { t: number; residual2: number } {
  const dr = shape.r - background.r;
  const dg = shape.g - background.g;
  const db = shape.b - background.b;
  const pr = r - background.r;
  const pg = g - background.g;
  const pb = b - background.b;
  const length2 = dr * dr + dg * dg + db * db || 1;
  const t = (pr * dr + pg * dg + pb * db) / length2;
  return { t, residual2: (pr - t * dr) ** 2 + (pg - t * dg) ** 2 + (pb - t * db) ** 2 };
}

function isBlend(background: Rgb, shape: Rgb, colour: Rgb): boolean {
  const { t, residual2 } = project(background, shape, colour.r, colour.g, colour.b);
  return t > 0.05 && t < 0.95 && residual2 < BLEND_RESIDUAL ** 2;
}
