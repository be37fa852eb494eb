// Names a region's shape from simple cues, enough for the shapes generateScene draws (circle,
// square, triangle, diamond) and the rectangles makeScene draws. A wrongly resized image turns
// squares into rectangles and circles into ellipses, and that is meant to show.

export type ShapeKind = "circle" | "ellipse" | "square" | "rectangle" | "triangle" | "diamond" | "shape";

/** Width over height within this of 1 counts as equal sides. */
const SQUARE_ASPECT = 0.15;
/**
 * A triangle's centroid sits a sixth of its height from its box's centre (toward its base); a
 * diamond's, circle's and square's sit at the centre.
 */
const OFF_CENTRE = 0.08;

/**
 * Fill ratio of the bounding box: about 1 for squares and rectangles, pi/4 (0.785) for circles
 * and ellipses, 1/2 for triangles and diamonds; the centroid tells those two apart.
 */
export function classifyShape(pixels: Int32Array, rasterWidth: number, box: readonly number[]): ShapeKind {
  const [x0, y0, x1, y1] = box as [number, number, number, number];
  const w = x1 - x0;
  const h = y1 - y0;
  let sx = 0;
  let sy = 0;
  for (const i of pixels) {
    const x = i % rasterWidth;
    sx += x + 0.5;
    sy += (i - x) / rasterWidth + 0.5;
  }
  const fill = pixels.length / (w * h);
  const offX = Math.abs(sx / pixels.length - x0 - w / 2) / w;
  const offY = Math.abs(sy / pixels.length - y0 - h / 2) / h;
  const even = Math.abs(w / h - 1) <= SQUARE_ASPECT;
  if (fill >= 0.88) return even ? "square" : "rectangle";
  if (fill >= 0.68) return even ? "circle" : "ellipse";
  if (fill >= 0.35) return Math.max(offX, offY) > OFF_CENTRE ? "triangle" : "diamond";
  return "shape";
}
