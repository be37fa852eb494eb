// Names for colours, coarse enough that a test can say "the red square is red" and the emulator
// agrees, whatever the exact shade or a little JPEG noise.

export const COLOUR_NAMES = [
  "black",
  "gray",
  "white",
  "red",
  "orange",
  "brown",
  "yellow",
  "green",
  "cyan",
  "blue",
  "purple",
  "pink",
] as const;

export type ColourName = (typeof COLOUR_NAMES)[number];

export interface ColourShare {
  name: ColourName;
  /** Mean of the pixels given this name, so a flat colour reports its exact value. */
  hex: string;
  /** Fraction of the opaque pixels, 0..1. */
  share: number;
}

/** Hue buckets in degrees, upper bounds exclusive; red wraps around 360. */
const HUES: readonly [number, ColourName][] = [
  [15, "red"],
  [45, "orange"],
  [70, "yellow"],
  [165, "green"],
  [195, "cyan"],
  [255, "blue"],
  [320, "purple"],
  [345, "pink"],
  [360, "red"],
];

export function nameColour(r: number, g: number, b: number): ColourName {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const chroma = max - min;
  const lightness = (max + min) / 2 / 255;
  if (lightness < 0.1) return "black";
  if (lightness > 0.94) return "white";
  // Chroma relative to what the lightness allows, so pale and dark tints still count as colours.
  const saturation = chroma / 255 / (1 - Math.abs(2 * lightness - 1));
  if (chroma < 24 || saturation < 0.15) {
    if (lightness < 0.2) return "black";
    if (lightness > 0.85) return "white";
    return "gray";
  }
  const hue = hueDegrees(r, g, b, max, chroma);
  const name = HUES.find(([limit]) => hue < limit)?.[1] ?? "red";
  // Dark oranges and yellows are what people call brown, and pale red is pink.
  if ((name === "orange" || name === "yellow") && max < 150) return "brown";
  if (name === "red" && lightness > 0.75) return "pink";
  return name;
}

function hueDegrees(r: number, g: number, b: number, max: number, chroma: number): number {
  let sector: number;
  if (max === r) sector = (g - b) / chroma;
  else if (max === g) sector = (b - r) / chroma + 2;
  else sector = (r - g) / chroma + 4;
  const degrees = sector * 60;
  return degrees < 0 ? degrees + 360 : degrees;
}

export function toHex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Counts named colours over interleaved raw pixels (3 or 4 channels), most common first; ties go
 * to palette order so the result never depends on iteration order. Pixels under half opacity are
 * ignored: they are background, not content.
 */
export function dominantColours(pixels: Uint8Array, channels: 3 | 4): ColourShare[] {
  const sums = new Map<ColourName, { count: number; r: number; g: number; b: number }>();
  let opaque = 0;
  for (let i = 0; i + channels <= pixels.length; i += channels) {
    if (channels === 4 && pixels[i + 3]! < 128) continue;
    const r = pixels[i]!;
    const g = pixels[i + 1]!;
    const b = pixels[i + 2]!;
    const name = nameColour(r, g, b);
    const sum = sums.get(name) ?? { count: 0, r: 0, g: 0, b: 0 };
    sum.count += 1;
    sum.r += r;
    sum.g += g;
    sum.b += b;
    sums.set(name, sum);
    opaque += 1;
  }
  return [...sums.entries()]
    .sort(
      ([nameA, a], [nameB, b]) =>
        b.count - a.count || COLOUR_NAMES.indexOf(nameA) - COLOUR_NAMES.indexOf(nameB),
    )
    .map(([name, sum]) => ({
      name,
      hex: toHex(sum.r / sum.count, sum.g / sum.count, sum.b / sum.count),
      share: sum.count / opaque,
    }));
}
