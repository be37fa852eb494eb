// Pixel-exact rasterising for generated scenes: each shape is drawn from its own 0/1 mask, so the
// ground truth is the drawing itself, not an approximation of it.

export type SceneShape = "circle" | "square" | "triangle" | "diamond";

export const SCENE_SHAPES: readonly SceneShape[] = ["circle", "square", "triangle", "diamond"];

/** A 0/1 mask over a box: data[(y - box y0) * width + (x - box x0)]. */
export interface SceneMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Samples the shape at pixel centres inside a side x side square. */
export function shapeMask(shape: SceneShape, side: number): SceneMask {
  const data = new Uint8Array(side * side);
  const half = side / 2;
  for (let y = 0; y < side; y++) {
    const cy = y + 0.5;
    for (let x = 0; x < side; x++) {
      const cx = x + 0.5;
      let inside: boolean;
      switch (shape) {
        case "square":
          inside = true;
          break;
        case "circle":
          inside = (cx - half) ** 2 + (cy - half) ** 2 <= half * half;
          break;
        case "diamond":
          inside = Math.abs(cx - half) + Math.abs(cy - half) <= half;
          break;
        case "triangle":
          // Apex at the top centre, base along the bottom edge.
          inside = Math.abs(cx - half) <= (cy / side) * half;
          break;
      }
      data[y * side + x] = inside ? 1 : 0;
    }
  }
  return { width: side, height: side, data };
}

/** Trims empty rows and columns: returns the tight mask and its offset within the original. */
export function trimMask(mask: SceneMask): { mask: SceneMask; dx: number; dy: number } {
  let x0 = mask.width;
  let y0 = mask.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] === 0) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  if (x1 < 0) throw new Error("empty shape mask");
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    data.set(mask.data.subarray((y0 + y) * mask.width + x0, (y0 + y) * mask.width + x0 + width), y * width);
  }
  return { mask: { width, height, data }, dx: x0, dy: y0 };
}

/**
 * The stored pixel grid whose display, after EXIF orientation `orientation`, is `display`
 * (interleaved RGB). Written independently of @tessera/imaging's orientation code so tests of one
 * check the other.
 */
export function storeForOrientation(
  display: Buffer,
  width: number,
  height: number,
  orientation: number,
): { data: Buffer; width: number; height: number } {
  const swap = orientation >= 5;
  const sw = swap ? height : width;
  const sh = swap ? width : height;
  const out = Buffer.alloc(display.length);
  for (let ys = 0; ys < sh; ys++) {
    for (let xs = 0; xs < sw; xs++) {
      // Where stored pixel (xs, ys) appears once the orientation is applied (EXIF/TIFF 6.0).
      let xd: number;
      let yd: number;
      switch (orientation) {
        case 2:
          [xd, yd] = [sw - 1 - xs, ys];
          break;
        case 3:
          [xd, yd] = [sw - 1 - xs, sh - 1 - ys];
          break;
        case 4:
          [xd, yd] = [xs, sh - 1 - ys];
          break;
        case 5:
          [xd, yd] = [ys, xs];
          break;
        case 6:
          [xd, yd] = [sh - 1 - ys, xs];
          break;
        case 7:
          [xd, yd] = [sh - 1 - ys, sw - 1 - xs];
          break;
        case 8:
          [xd, yd] = [ys, sw - 1 - xs];
          break;
        default:
          [xd, yd] = [xs, ys];
      }
      display.copy(out, (ys * sw + xs) * 3, (yd * width + xd) * 3, (yd * width + xd) * 3 + 3);
    }
  }
  return { data: out, width: sw, height: sh };
}
