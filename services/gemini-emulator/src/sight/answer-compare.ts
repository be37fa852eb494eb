// Differences between synthetic scenes, each later image against the first (img_1). Shapes are
// paired in this order, nearest centres first:
// 1. same colour and kind: "moved" when the centre moved more than a tenth of the image;
// 2. same kind, different colour, close by: a colour change;
// 3. same colour, different kind, close by: a shape change;
// then what is left is missing from, or new in, the later image. A different background colour
// is a difference too. Images without shapes are compared by their colour captions.
// The question is not read: whatever it asks, the answer lists the visible differences.
import { captionOf } from "./answer-caption.ts";
import { capitalise, joinAnd, placeOf, plural, withArticle } from "./phrases.ts";
import type { SeenShape } from "./see-scene.ts";
import type { SeenImage } from "./seen-image.ts";
import { hasShapes, shapesOf } from "./seen-image.ts";

export interface Difference {
  description: string;
  images: string[];
}

export interface Comparison {
  summary: string;
  differences: Difference[];
}

/** Centres closer than this (as a fraction of the image) are the same place. */
const SAME_PLACE = 0.1;

interface Found {
  difference: Difference;
  /** A few words for the summary. */
  gist: string;
}

export function compareImages(images: readonly SeenImage[], keys: readonly string[]): Comparison {
  const found: Found[] = [];
  const first = images[0];
  if (first !== undefined) {
    images.slice(1).forEach((other, i) => found.push(...compareTwo(first, other, keys[0]!, keys[i + 1]!)));
  }
  const differences = found.map((f) => f.difference);
  if (found.length === 0)
    return { summary: "There is no visible difference between the images.", differences };
  const gists = found.slice(0, 3).map((f) => f.gist);
  const more = found.length > 3 ? ` and ${found.length - 3} more` : "";
  return {
    summary: `${found.length} ${plural("difference", found.length)}: ${joinAnd(gists)}${more}.`,
    differences,
  };
}

function compareTwo(a: SeenImage, b: SeenImage, keyA: string, keyB: string): Found[] {
  if (!hasShapes(a) && !hasShapes(b)) {
    const [captionA, captionB] = [captionOf(a, "short"), captionOf(b, "short")];
    if (sameColours(a, b)) return [];
    return [
      {
        difference: { description: `${keyA}: ${captionA} ${keyB}: ${captionB}`, images: [keyA, keyB] },
        gist: `${keyA} and ${keyB} have different colours`,
      },
    ];
  }
  const found: Found[] = [];
  const bgA = a.view?.background.colour;
  const bgB = b.view?.background.colour;
  if (bgA !== undefined && bgB !== undefined && bgA !== bgB) {
    found.push({
      difference: {
        description: `The background is ${bgA} in ${keyA} and ${bgB} in ${keyB}.`,
        images: [keyA, keyB],
      },
      gist: `the background changed from ${bgA} to ${bgB}`,
    });
  }
  const left = [...shapesOf(a)];
  const right = [...shapesOf(b)];
  for (const [x, y] of pairs(left, right, (x, y) => x.label === y.label, Infinity)) {
    if (distance(x, y) <= SAME_PLACE) continue;
    const [from, to] = [regionOf(x), regionOf(y)];
    const description =
      from === to
        ? `The ${x.label} moved within ${from} between ${keyA} and ${keyB}.`
        : `The ${x.label} moved from ${from} in ${keyA} to ${to} in ${keyB}.`;
    found.push({ difference: { description, images: [keyA, keyB] }, gist: `the ${x.label} moved` });
  }
  for (const [x, y] of pairs(left, right, (x, y) => x.kind === y.kind, SAME_PLACE)) {
    found.push({
      difference: {
        description: `The ${x.kind} ${placeOf(x)} is ${x.colour} in ${keyA} and ${y.colour} in ${keyB}.`,
        images: [keyA, keyB],
      },
      gist: `the ${x.kind} changed from ${x.colour} to ${y.colour}`,
    });
  }
  for (const [x, y] of pairs(left, right, (x, y) => x.colour === y.colour, SAME_PLACE)) {
    found.push({
      difference: {
        description: `The ${x.colour} shape ${placeOf(x)} is ${withArticle(x.kind)} in ${keyA} and ${withArticle(y.kind)} in ${keyB}.`,
        images: [keyA, keyB],
      },
      gist: `the ${x.colour} ${x.kind} became ${withArticle(y.kind)}`,
    });
  }
  for (const x of left) {
    found.push({
      difference: {
        description: `The ${x.label} ${placeOf(x)} of ${keyA} is missing from ${keyB}.`,
        images: [keyA],
      },
      gist: `the ${x.label} is missing from ${keyB}`,
    });
  }
  for (const y of right) {
    found.push({
      difference: {
        description: `${capitalise(withArticle(y.label))} appears ${placeOf(y)} in ${keyB}.`,
        images: [keyB],
      },
      gist: `${withArticle(y.label)} appears in ${keyB}`,
    });
  }
  return found;
}

/**
 * Takes matching pairs out of `left` and `right`, nearest first, within `reach`; returns them in
 * `left`'s order so the answer does not depend on distances that tie.
 */
function pairs(
  left: SeenShape[],
  right: SeenShape[],
  match: (x: SeenShape, y: SeenShape) => boolean,
  reach: number,
): [SeenShape, SeenShape][] {
  const candidates: { i: number; j: number; d: number }[] = [];
  left.forEach((x, i) =>
    right.forEach((y, j) => {
      const d = distance(x, y);
      if (match(x, y) && d <= reach) candidates.push({ i, j, d });
    }),
  );
  candidates.sort((p, q) => p.d - q.d || p.i - q.i || p.j - q.j);
  const usedLeft = new Set<number>();
  const usedRight = new Set<number>();
  const chosen: { i: number; j: number }[] = [];
  for (const { i, j } of candidates) {
    if (usedLeft.has(i) || usedRight.has(j)) continue;
    usedLeft.add(i);
    usedRight.add(j);
    chosen.push({ i, j });
  }
  chosen.sort((p, q) => p.i - q.i);
  const result = chosen.map(({ i, j }): [SeenShape, SeenShape] => [left[i]!, right[j]!]);
  const keepLeft = left.filter((_, i) => !usedLeft.has(i));
  const keepRight = right.filter((_, j) => !usedRight.has(j));
  left.splice(0, left.length, ...keepLeft);
  right.splice(0, right.length, ...keepRight);
  return result;
}

function distance(x: SeenShape, y: SeenShape): number {
  return Math.hypot(x.centre.x - y.centre.x, x.centre.y - y.centre.y);
}

function sameColours(a: SeenImage, b: SeenImage): boolean {
  const main = (image: SeenImage): string =>
    (image.analysis.colours ?? [])
      .filter((c) => c.share >= 0.1)
      .map((c) => c.name)
      .join(",");
  return main(a) === main(b);
}

/** "the top left", "the centre": where a shape is, without the preposition. */
function regionOf(shape: SeenShape): string {
  return placeOf(shape).replace(/^(?:at|on|in) /, "");
}
