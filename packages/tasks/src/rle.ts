import type { PlacedMask } from "./mask-raster.ts";

/**
 * COCO's uncompressed run-length encoding: runs over the pixels in column-major order (down the
 * first column, then the next), alternating 0s and 1s and starting with a run of 0s (of length 0
 * when the first pixel is set). `size` is [height, width]; the counts sum to height * width.
 */
export interface CocoRle {
  size: [number, number];
  counts: number[];
}

export function rleFromMask(mask: PlacedMask): CocoRle {
  const { width, height } = mask.frame;
  const [x0, y0, x1, y1] = mask.box;
  const boxWidth = x1 - x0;
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  const push = (value: number, length: number): void => {
    if (length === 0) return;
    if (value === current) {
      run += length;
      return;
    }
    counts.push(run);
    current = value;
    run = length;
  };
  for (let x = 0; x < width; x++) {
    if (x < x0 || x >= x1) {
      push(0, height);
      continue;
    }
    push(0, y0);
    for (let y = y0; y < y1; y++) push(mask.data[(y - y0) * boxWidth + (x - x0)]!, 1);
    push(0, height - y1);
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** The mask as 0/1 per pixel, row-major (width * height). */
export function decodeRle(rle: CocoRle): Uint8Array {
  const [height, width] = rle.size;
  const out = new Uint8Array(width * height);
  let index = 0;
  rle.counts.forEach((count, i) => {
    if (i % 2 === 1) {
      for (let k = index; k < index + count; k++) {
        const x = Math.floor(k / height);
        const y = k % height;
        out[y * width + x] = 1;
      }
    }
    index += count;
  });
  if (index !== width * height) {
    throw new RangeError(`RLE counts sum to ${index}, expected ${width * height}`);
  }
  return out;
}

/** Pixels set: the sum of the runs of 1s. */
export function rleArea(rle: CocoRle): number {
  let area = 0;
  for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i]!;
  return area;
}
