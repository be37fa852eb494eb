import { normalizedBoxToOriginal, type ImageTransform, type PixelBox } from "@tessera/imaging/header";
import { isCut, type JsonPath } from "./json-extract.ts";
import { matchLabel } from "./labels.ts";
import { isRecord, type JsonAnswer } from "./outcome.ts";
import type { Problem } from "./warnings.ts";

/** Gemini's box_2d: [ymin, xmin, ymax, xmax] on a 0..1000 grid over the image it saw. */
export type Box2d = [number, number, number, number];

export interface SpatialItem {
  /** Position in the model's list, for messages. */
  index: number;
  label: string;
  /** The model's box after clamping and ordering. */
  box2d: Box2d;
  /** Whole pixel edges in the original's display image: x0 <= x < x1, y0 <= y < y1. */
  box: PixelBox;
  /** The item as the model wrote it (masks and other members live here). */
  raw: Record<string, unknown>;
}

// Keys models wrap their list in, tried before "any single list-valued key".
const WRAPPER_KEYS = ["boxes", "objects", "detections", "items", "masks", "segmentation_masks", "results"];

/**
 * The list of items in an answer: the top-level array, or the array under a wrapper key, or a
 * lone item. Returns its path (to tell cut-off items) or undefined when there is no list.
 */
export function findList(
  value: unknown,
  problems: Problem[],
): { list: unknown[]; path: JsonPath; wrapped: boolean } | undefined {
  if (Array.isArray(value)) return { list: value, path: [], wrapped: false };
  if (!isRecord(value)) return undefined;
  if ("box_2d" in value) {
    problems.push({ code: "single_object_list", message: "one item without the surrounding list" });
    return { list: [value], path: [], wrapped: true };
  }
  const arrays = Object.entries(value).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  const chosen =
    arrays.find(([k]) => WRAPPER_KEYS.includes(k.toLowerCase())) ??
    (arrays.length === 1 ? arrays[0] : undefined);
  if (chosen === undefined) return undefined;
  problems.push({ code: "wrapped_list", message: `the list came wrapped as {"${chosen[0]}": [...]}` });
  return { list: chosen[1], path: [chosen[0]], wrapped: true };
}

function readBox2d(value: unknown): Box2d | undefined {
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const numbers = value.map((v) => (typeof v === "number" ? v : Number.NaN));
  return numbers.every(Number.isFinite) ? (numbers as Box2d) : undefined;
}

export interface SpatialOptions {
  /** The label set, when the user gave one: other labels are dropped. */
  labels?: readonly string[] | undefined;
}

/**
 * Reads box items from a detect or segment answer and maps their boxes to the original's display
 * pixels, repairing what can be repaired (corners in the wrong order, values past the 0..1000
 * grid) and dropping, with a counted warning, what cannot (cut-off, malformed, empty or
 * duplicated items).
 */
export function readSpatialItems(
  json: JsonAnswer,
  transform: ImageTransform,
  options: SpatialOptions,
  problems: Problem[],
): SpatialItem[] | undefined {
  if (json.value === undefined) return [];
  const found = findList(json.value, problems);
  if (found === undefined) return undefined;
  const items: SpatialItem[] = [];
  const seen = new Map<string, string[]>();
  found.list.forEach((entry, index) => {
    if (isCut(json.cutPath, [...found.path, index])) return; // counted once as "truncated"
    const where = `item ${index}`;
    const item = isRecord(entry) ? entry : undefined;
    const box2dRaw = readBox2d(item?.["box_2d"]);
    const rawLabel = item?.["label"];
    if (
      item === undefined ||
      box2dRaw === undefined ||
      typeof rawLabel !== "string" ||
      rawLabel.trim() === ""
    ) {
      problems.push({
        code: "invalid_item",
        message: `${where}: not an object with box_2d [4 numbers] and a label; dropped`,
      });
      return;
    }
    let label = rawLabel.trim();
    if (options.labels !== undefined) {
      const match = matchLabel(label, options.labels);
      if (match === undefined) {
        problems.push({
          code: "label_not_in_set",
          message: `${where}: label "${label}" is not in the list; dropped`,
        });
        return;
      }
      if (!match.exact) {
        problems.push({
          code: "label_normalised",
          message: `${where}: label "${label}" read as "${match.label}"`,
        });
      }
      label = match.label;
    }
    const box2d = repairBox2d(box2dRaw, where, problems);
    if (box2d === undefined) return;
    const box = roundBox(normalizedBoxToOriginal(transform, box2d));
    if (box[2] <= box[0] || box[3] <= box[1]) {
      problems.push({ code: "zero_size_box", message: `${where}: less than a pixel wide or high; dropped` });
      return;
    }
    const boxKey = box2d.join(",");
    const labelsAtBox = seen.get(boxKey) ?? [];
    if (labelsAtBox.some((l) => l.toLowerCase() === label.toLowerCase())) {
      problems.push({
        code: "duplicate_box",
        message: `${where}: repeats an earlier "${label}" box; dropped`,
      });
      return;
    }
    if (labelsAtBox.length > 0) {
      problems.push({
        code: "shared_box",
        message: `${where}: "${label}" has the same box as "${labelsAtBox.join('", "')}"; both kept`,
      });
    }
    seen.set(boxKey, [...labelsAtBox, label]);
    items.push({ index, label, box2d, box, raw: item });
  });
  return items;
}

/** Clamps to the 0..1000 grid and orders the corners; undefined (and a warning) for an empty box. */
export function repairBox2d(box: Box2d, where: string, problems: Problem[]): Box2d | undefined {
  const clamped = box.map((v) => Math.min(1000, Math.max(0, v))) as Box2d;
  if (clamped.some((v, i) => v !== box[i])) {
    problems.push({
      code: "clamped_coordinates",
      message: `${where}: box_2d [${box.join(", ")}] clamped to 0..1000`,
    });
  }
  let [ymin, xmin, ymax, xmax] = clamped;
  if (ymin > ymax || xmin > xmax) {
    problems.push({ code: "reversed_corners", message: `${where}: box_2d corners reversed; reordered` });
    [ymin, ymax] = [Math.min(ymin, ymax), Math.max(ymin, ymax)];
    [xmin, xmax] = [Math.min(xmin, xmax), Math.max(xmin, xmax)];
  }
  if (ymin === ymax || xmin === xmax) {
    problems.push({ code: "zero_size_box", message: `${where}: box_2d has zero width or height; dropped` });
    return undefined;
  }
  return [ymin, xmin, ymax, xmax];
}

// Whole pixel edges: what masks are placed on, and what COCO bboxes and previews draw.
function roundBox(box: PixelBox): PixelBox {
  return [Math.round(box[0]), Math.round(box[1]), Math.round(box[2]), Math.round(box[3])];
}
