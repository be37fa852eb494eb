// Whether a label (or a question's subject) names a seen shape: every meaningful word of it must
// be the shape's colour, its kind, or a word for any shape ("shape", "object"). "red circle"
// names only red circles, "circle" every circle, "red" every red shape, "shapes" all of them;
// "dog" names none.
import type { Word } from "./colour-words.ts";
import { readWords } from "./colour-words.ts";
import type { SeenShape } from "./see-scene.ts";

export interface Subject {
  words: Word[];
  /** Words that are neither a colour, a shape nor "shape": the emulator does not know them. */
  unknown: string[];
}

export function readSubject(text: string): Subject {
  const words = readWords(text);
  const unknown = words.flatMap((word) => (word.kind === "other" ? [word.value] : []));
  return { words, unknown };
}

/** True when the subject says something the emulator can check (and nothing it cannot). */
export function isKnown(subject: Subject): boolean {
  return subject.words.length > 0 && subject.unknown.length === 0;
}

export function names(subject: Subject, shape: SeenShape): boolean {
  return (
    isKnown(subject) &&
    subject.words.every(
      (word) =>
        word.kind === "generic" ||
        (word.kind === "colour" && word.value === shape.colour) ||
        (word.kind === "shape" && word.value === shape.kind),
    )
  );
}

/** How much a matching subject says: a colour and a kind beat either alone, which beats "shape". */
export function specificity(subject: Subject): number {
  return subject.words.filter((word) => word.kind !== "generic").length;
}

/**
 * The label that names `shape` best: the most specific one, the earlier one on a tie; undefined
 * when none names it.
 */
export function bestLabel(labels: readonly string[], shape: SeenShape): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const label of labels) {
    const subject = readSubject(label);
    if (!names(subject, shape)) continue;
    const score = specificity(subject);
    if (score > bestScore) [best, bestScore] = [label, score];
  }
  return best;
}

/** Labels that mean "none of the others", chosen when no label names anything seen. */
const CATCH_ALL = new Set([
  "other",
  "others",
  "none",
  "neither",
  "unknown",
  "nothing",
  "empty",
  "blank",
  "misc",
]);

export function isCatchAll(label: string): boolean {
  return CATCH_ALL.has(label.trim().toLowerCase());
}
