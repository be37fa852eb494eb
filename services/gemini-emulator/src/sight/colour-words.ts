// Colour names for shapes, and the words of labels and questions that name colours and shapes.
import { nameColour } from "../palette.ts";
import type { Rgb } from "./raster.ts";
import type { ShapeKind } from "./shape-kind.ts";

/**
 * The emulator's palette names (src/palette.ts), with "magenta" split off bright purples: scenes
 * draw magenta and purple side by side, and a person would not call both purple.
 */
export function shapeColourName(rgb: Rgb): string {
  const name = nameColour(Math.round(rgb.r), Math.round(rgb.g), Math.round(rgb.b));
  if (name !== "purple") return name;
  return hue(rgb) >= 288 && Math.max(rgb.r, rgb.g, rgb.b) >= 160 ? "magenta" : "purple";
}

function hue({ r, g, b }: Rgb): number {
  const max = Math.max(r, g, b);
  const chroma = max - Math.min(r, g, b);
  if (chroma === 0) return 0;
  let sector: number;
  if (max === r) sector = (g - b) / chroma;
  else if (max === g) sector = (b - r) / chroma + 2;
  else sector = (r - g) / chroma + 4;
  return (sector * 60 + 360) % 360;
}

const COLOUR_WORDS: Readonly<Record<string, string>> = {
  black: "black",
  gray: "gray",
  grey: "gray",
  white: "white",
  red: "red",
  orange: "orange",
  brown: "brown",
  yellow: "yellow",
  green: "green",
  cyan: "cyan",
  turquoise: "cyan",
  blue: "blue",
  purple: "purple",
  violet: "purple",
  magenta: "magenta",
  fuchsia: "magenta",
  pink: "pink",
};

const SHAPE_WORDS: Readonly<Record<string, ShapeKind>> = {
  circle: "circle",
  disc: "circle",
  disk: "circle",
  ellipse: "ellipse",
  oval: "ellipse",
  square: "square",
  rectangle: "rectangle",
  triangle: "triangle",
  diamond: "diamond",
  rhombus: "diamond",
};

/** Words that stand for any shape. */
const GENERIC = new Set(["shape", "object", "item", "thing", "figure", "blob", "one"]);

/** Words that carry no meaning for matching: articles, "in the image", "coloured". */
const FILLER = new Set([
  "a",
  "an",
  "the",
  "any",
  "all",
  "some",
  "of",
  "in",
  "on",
  "this",
  "that",
  "image",
  "picture",
  "photo",
  "there",
  "visible",
  "coloured",
  "colored",
  "total",
  "altogether",
]);

export type Word =
  | { kind: "colour"; value: string }
  | { kind: "shape"; value: ShapeKind }
  | { kind: "generic" }
  | { kind: "other"; value: string };

/** The meaningful words of a label or a question's subject: "Red circles" -> colour red, shape circle. */
export function readWords(text: string): Word[] {
  const words: Word[] = [];
  for (const raw of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    if (FILLER.has(raw)) continue;
    words.push(readWord(raw));
  }
  return words;
}

function readWord(raw: string): Word {
  for (const word of singulars(raw)) {
    const colour = COLOUR_WORDS[word];
    if (colour !== undefined) return { kind: "colour", value: colour };
    const shape = SHAPE_WORDS[word];
    if (shape !== undefined) return { kind: "shape", value: shape };
    if (GENERIC.has(word)) return { kind: "generic" };
  }
  return { kind: "other", value: raw };
}

function singulars(word: string): string[] {
  const forms = [word];
  if (word.endsWith("es")) forms.push(word.slice(0, -2));
  if (word.endsWith("s")) forms.push(word.slice(0, -1));
  return forms;
}
