// Classification of synthetic scenes by a fixed rule:
// - one label: the most specific label naming the largest shape; else the same for the next
//   largest, and so on; else a catch-all label ("other", "none", ...); else the first label that
//   names one of the image's colours; else the first label;
// - several labels: every label naming a shape, in the request's order; else a catch-all label;
//   else none.
// A label names a shape when each of its words is the shape's colour, its kind or "shape"
// (see label-match.ts). Images without shapes (photos, plain images) go by their main colours.
import { colourNamesOf, pickEnum } from "../schema-fill.ts";
import { bestLabel, isCatchAll, names, readSubject } from "./label-match.ts";
import type { SeenImage } from "./seen-image.ts";
import { shapesOf } from "./seen-image.ts";

/** Colours covering less of an image than this do not name it (as in the colour captions). */
const MAIN_COLOUR_SHARE = 0.1;

export function classifyImage(image: SeenImage, labels: readonly string[], multi: boolean): string[] {
  const shapes = shapesOf(image);
  const catchAll = labels.find(isCatchAll);
  if (multi) {
    const named =
      shapes.length > 0
        ? labels.filter((label) => shapes.some((shape) => names(readSubject(label), shape)))
        : labels.filter((label) => mainColours(image).some((colour) => label.toLowerCase().includes(colour)));
    if (named.length > 0) return named;
    return catchAll === undefined ? [] : [catchAll];
  }
  for (const shape of shapes) {
    const label = bestLabel(labels, shape);
    if (label !== undefined) return [label];
  }
  if (shapes.length > 0 && catchAll !== undefined) return [catchAll];
  return [String(pickEnum(labels, colourNamesOf(image.analysis)))];
}

function mainColours(image: SeenImage): string[] {
  return (image.analysis.colours ?? []).filter((c) => c.share >= MAIN_COLOUR_SHARE).map((c) => c.name);
}
