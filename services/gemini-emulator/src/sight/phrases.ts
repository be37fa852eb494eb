// Small pieces of English the answers are built from.
import type { SeenShape } from "./see-scene.ts";

export function withArticle(phrase: string): string {
  return `${/^[aeiou]/i.test(phrase) ? "an" : "a"} ${phrase}`;
}

/** "a", "a and b", "a, b and c". */
export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)!}`;
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function plural(word: string, count: number): string {
  return count === 1 ? word : `${word}s`;
}

/** "at the top left", "in the centre", "on the right": where a shape's centre falls in a 3x3 grid. */
export function placeOf(shape: SeenShape): string {
  const row = third(shape.centre.y, ["top", "middle", "bottom"]);
  const column = third(shape.centre.x, ["left", "centre", "right"]);
  if (row === "middle") return column === "centre" ? "in the centre" : `on the ${column}`;
  return column === "centre" ? `at the ${row}` : `at the ${row} ${column}`;
}

function third<T>(fraction: number, names: readonly [T, T, T]): T {
  return fraction < 1 / 3 ? names[0] : fraction < 2 / 3 ? names[1] : names[2];
}
