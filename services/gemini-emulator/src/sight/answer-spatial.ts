// Detection and segmentation answers: one item per shape, largest first, with box_2d as
// [ymin, xmin, ymax, xmax] on the 0..1000 grid of the image as received (upright). With labels
// asked for, a shape is reported under the most specific label that names it, and shapes no label
// names are left out. Items beyond the request's maxItems are dropped, as a model stops there.
import { bestLabel } from "./label-match.ts";
import type { MaskSize } from "./mask-png.ts";
import { maskDataUrl } from "./mask-png.ts";
import type { SeenShape } from "./see-scene.ts";
import type { SeenImage } from "./seen-image.ts";
import { shapesOf } from "./seen-image.ts";

export interface DetectItem {
  box_2d: [number, number, number, number];
  label: string;
}

export interface SegmentItem {
  box_2d: [number, number, number, number];
  mask: string;
  label: string;
}

export function detectItems(
  image: SeenImage,
  labels: readonly string[] | undefined,
  maxItems: number | undefined,
): DetectItem[] {
  return chosen(image, labels, maxItems).map(({ shape, label }) => ({ box_2d: box2d(image, shape), label }));
}

export async function segmentItems(
  image: SeenImage,
  labels: readonly string[] | undefined,
  maxItems: number | undefined,
  maskSize: MaskSize,
): Promise<SegmentItem[]> {
  const items: SegmentItem[] = [];
  for (const { shape, label } of chosen(image, labels, maxItems)) {
    items.push({ box_2d: box2d(image, shape), mask: await maskDataUrl(shape, maskSize), label });
  }
  return items;
}

function chosen(
  image: SeenImage,
  labels: readonly string[] | undefined,
  maxItems: number | undefined,
): { shape: SeenShape; label: string }[] {
  const found = shapesOf(image).flatMap((shape) => {
    const label = labels === undefined ? shape.label : bestLabel(labels, shape);
    return label === undefined ? [] : [{ shape, label }];
  });
  return found.slice(0, maxItems ?? found.length);
}

function box2d(image: SeenImage, shape: SeenShape): [number, number, number, number] {
  const { width, height } = image.view!;
  const [x0, y0, x1, y1] = shape.box;
  const scale = (v: number, side: number): number => Math.round((v / side) * 1000);
  return [scale(y0, height), scale(x0, width), scale(y1, height), scale(x1, width)];
}
