import { displayToStored, storedToDisplay, type Orientation, type Size } from "./orientation.ts";

/**
 * How the image that was sent relates to the original file, so answers about the sent image
 * (boxes, points, masks) land on the original. The sent image is always the original's display
 * image (orientation applied) scaled by scaleX/scaleY; `orientation` and `stored` relate that
 * display image to the pixels the original file stores.
 *
 * Coordinates are continuous pixel-edge coordinates: x runs from 0 (left edge of the first pixel)
 * to width (right edge of the last), so boxes map to boxes and round trips are exact.
 */
export interface ImageTransform {
  /** The orientation the original file declares, applied before sending (1: none). */
  orientation: Orientation;
  /** The original's pixel grid as stored, before orientation. */
  stored: Size;
  /** The original as displayed: the frame results are mapped back to. */
  original: Size;
  /** The image Gemini saw. */
  sent: Size;
  /** sent / original, per axis (they differ slightly after rounding to whole pixels). */
  scaleX: number;
  scaleY: number;
}

/** [x0, y0, x1, y1] in pixels. */
export type PixelBox = [number, number, number, number];

export function identityTransform(
  size: Size,
  orientation: Orientation = 1,
  stored: Size = size,
): ImageTransform {
  return transformFor(stored, orientation, size, size);
}

export function transformFor(
  stored: Size,
  orientation: Orientation,
  original: Size,
  sent: Size,
): ImageTransform {
  return {
    orientation,
    stored: { ...stored },
    original: { ...original },
    sent: { ...sent },
    scaleX: sent.width / original.width,
    scaleY: sent.height / original.height,
  };
}

/** A point of the sent image in the original's display pixels. */
export function toOriginalPixels(t: ImageTransform, x: number, y: number): [number, number] {
  return [x / t.scaleX, y / t.scaleY];
}

/** A point of the original's display pixels in the sent image (the inverse of toOriginalPixels). */
export function toSentPixels(t: ImageTransform, x: number, y: number): [number, number] {
  return [x * t.scaleX, y * t.scaleY];
}

/** A point of the original's display image in the stored pixel grid (to draw on undecoded pixels). */
export function toStoredPixels(t: ImageTransform, x: number, y: number): [number, number] {
  return displayToStored(t.orientation, t.stored, x, y);
}

/** A point of the stored pixel grid in the original's display image. */
export function storedToOriginalPixels(t: ImageTransform, x: number, y: number): [number, number] {
  return storedToDisplay(t.orientation, t.stored, x, y);
}

/**
 * A box in the sent image as a box in the original's display pixels: corners put in order and
 * clamped to the image, so a model answer slightly outside the frame still maps inside it.
 */
export function boxToOriginal(t: ImageTransform, box: PixelBox): PixelBox {
  const [ax, ay] = toOriginalPixels(t, box[0], box[1]);
  const [bx, by] = toOriginalPixels(t, box[2], box[3]);
  return orderedClamped(ax, ay, bx, by, t.original);
}

/**
 * Gemini's `box_2d`, [ymin, xmin, ymax, xmax] normalised to 0..1000 over the image it saw, as a
 * box [x0, y0, x1, y1] in the original's display pixels.
 */
export function normalizedBoxToOriginal(
  t: ImageTransform,
  box2d: readonly [number, number, number, number],
): PixelBox {
  const [ymin, xmin, ymax, xmax] = box2d;
  const { width, height } = t.sent;
  return boxToOriginal(t, [
    (xmin / 1000) * width,
    (ymin / 1000) * height,
    (xmax / 1000) * width,
    (ymax / 1000) * height,
  ]);
}

/** A box of the original's display image in the stored pixel grid. */
export function boxToStored(t: ImageTransform, box: PixelBox): PixelBox {
  const [ax, ay] = toStoredPixels(t, box[0], box[1]);
  const [bx, by] = toStoredPixels(t, box[2], box[3]);
  return orderedClamped(ax, ay, bx, by, t.stored);
}

function orderedClamped(ax: number, ay: number, bx: number, by: number, frame: Size): PixelBox {
  const clampX = (v: number): number => Math.min(Math.max(v, 0), frame.width);
  const clampY = (v: number): number => Math.min(Math.max(v, 0), frame.height);
  return [
    clampX(Math.min(ax, bx)),
    clampY(Math.min(ay, by)),
    clampX(Math.max(ax, bx)),
    clampY(Math.max(ay, by)),
  ];
}
