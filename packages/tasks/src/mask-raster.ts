import type { PixelBox, Size } from "@tessera/imaging";

/** 8-bit single-channel pixels, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A binary mask over a whole image, stored as its box: pixels outside `box` are 0. Keeping only
 * the box keeps a 12-megapixel photo with twenty objects from costing twenty full-size buffers.
 */
export interface PlacedMask {
  frame: Size;
  /** Whole pixel edges inside the frame. */
  box: PixelBox;
  /** 0/1 per pixel of the box, row-major. */
  data: Uint8Array;
}

/**
 * Bilinear resampling with pixel centres aligned (the convention of PIL's and OpenCV's bilinear
 * resize, which the guide's reference code uses to fit a mask to its box).
 */
export function resizeBilinear(src: GrayImage, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      const top = src.data[y0 * src.width + x0]! * (1 - wx) + src.data[y0 * src.width + x1]! * wx;
      const bottom = src.data[y1 * src.width + x0]! * (1 - wx) + src.data[y1 * src.width + x1]! * wx;
      out[y * width + x] = Math.round(top * (1 - wy) + bottom * wy);
    }
  }
  return out;
}

/** The guide's midpoint: probabilities above 127 are inside. */
export const MASK_THRESHOLD = 127;

/**
 * Fits a probability map to its box (bilinear, the box's size in the original's display pixels),
 * binarises it and places it in the frame.
 */
export function placeMask(
  map: GrayImage,
  box: PixelBox,
  frame: Size,
  threshold = MASK_THRESHOLD,
): PlacedMask {
  const [x0, y0, x1, y1] = box;
  const resized = resizeBilinear(map, x1 - x0, y1 - y0);
  const data = new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) data[i] = resized[i]! > threshold ? 1 : 0;
  return { frame: { ...frame }, box: [x0, y0, x1, y1], data };
}

export function maskArea(mask: PlacedMask): number {
  let area = 0;
  for (const v of mask.data) area += v;
  return area;
}

/** Whether frame pixel (x, y) is set. */
export function maskAt(mask: PlacedMask, x: number, y: number): boolean {
  const [x0, y0, x1, y1] = mask.box;
  if (x < x0 || x >= x1 || y < y0 || y >= y1) return false;
  return mask.data[(y - y0) * (x1 - x0) + (x - x0)] === 1;
}
