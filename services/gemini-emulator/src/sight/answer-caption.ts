// Captions of synthetic scenes: the shapes by colour and kind, on their background. The image's
// size stays at the front, as in the emulator's colour captions, so a test can still read what
// size Tessera sent. Anything without shapes gets the colour caption.
import { describeImage } from "../caption.ts";
import { capitalise, joinAnd, placeOf, plural, withArticle } from "./phrases.ts";
import type { CaptionLength } from "./recognise.ts";
import type { SeenShape } from "./see-scene.ts";
import type { SeenImage } from "./seen-image.ts";
import { shapesOf } from "./seen-image.ts";

/** More shapes than this are summed up by kind, to keep the sentence short. */
const LISTED = 4;

export function captionOf(image: SeenImage, length: CaptionLength): string {
  const shapes = shapesOf(image);
  if (shapes.length === 0 || image.view === undefined) return describeImage(image.analysis);
  const { width, height } = image.analysis;
  const background = withArticle(`${image.view.background.colour} background`);
  const sentences = [`A ${width}x${height} image of ${shapePhrase(shapes)} on ${background}.`];
  if (length !== "short") {
    const places = shapes.map((shape, i) => `the ${shape.label}${i === 0 ? " is" : ""} ${placeOf(shape)}`);
    sentences.push(`${capitalise(joinAnd(places))}.`);
  }
  if (length === "long") {
    sentences.push(
      shapes.length === 1
        ? `Nothing else is visible.`
        : `The largest is the ${shapes[0]!.label}; the smallest is the ${shapes.at(-1)!.label}.`,
    );
  }
  return sentences.join(" ");
}

function shapePhrase(shapes: readonly SeenShape[]): string {
  if (shapes.length <= LISTED) return joinAnd(shapes.map((shape) => withArticle(shape.label)));
  const byKind = new Map<string, number>();
  for (const shape of shapes) byKind.set(shape.kind, (byKind.get(shape.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([kind, count]) => `${count} ${plural(kind, count)}`);
  return `${shapes.length} coloured shapes (${joinAnd(kinds)})`;
}
