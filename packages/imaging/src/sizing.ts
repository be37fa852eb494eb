import type { Size } from "./orientation.ts";
import { imageTokens, tokenRuleForModel } from "./tokens.ts";

/**
 * How much of an image to send:
 * - "low": fit inside 384x384, the size Gemini 2.x charges a flat 258 tokens for;
 * - "standard": cap the longer side (1024 by default) keeping the aspect ratio, which keeps the
 *   2.x tile count (it depends on the ratio, not the size) while cutting upload bytes and time;
 * - "original": the display size, untouched.
 */
export type Detail = "low" | "standard" | "original";

export const LOW_DETAIL_SIDE = 384;
export const STANDARD_MAX_SIDE = 1024;

// Gemini 2.0 and 2.5 share this tile rule; "standard" keeps its count.
const TILE_RULE = tokenRuleForModel("gemini-2.5-flash");

/** The size an image of display size `display` is sent at under `detail`. */
export function sentSize(display: Size, detail: Detail, maxSide: number = STANDARD_MAX_SIDE): Size {
  if (!Number.isInteger(maxSide) || maxSide < 1)
    throw new RangeError(`maxSide must be a positive integer, got ${maxSide}`);
  if (detail === "original") return { ...display };
  if (detail === "low") return fitInside(display, LOW_DETAIL_SIDE);
  const fitted = fitInside(display, maxSide);
  return fitted.width === display.width && fitted.height === display.height
    ? fitted
    : keepTileCount(display, fitted, maxSide);
}

/** Scales down (never up) to fit a side x side square, rounding to whole pixels. */
export function fitInside(size: Size, side: number): Size {
  if (size.width <= side && size.height <= side) return { ...size };
  const scale = Math.min(side / size.width, side / size.height);
  return {
    width: Math.min(side, Math.max(1, Math.round(size.width * scale))),
    height: Math.min(side, Math.max(1, Math.round(size.height * scale))),
  };
}

/**
 * Rounding to whole pixels can push a side just across a crop-unit boundary and change the tile
 * count for about 1% of sizes. This tries the nearby sizes (the short side rounded down or up, the
 * long side a few pixels shorter) and keeps the one closest to the original ratio that has the
 * original's count; extreme strips (beyond ~10:1) can still differ by a tile.
 */
function keepTileCount(display: Size, fitted: Size, maxSide: number): Size {
  const tokens = (s: Size): number => imageTokens(s, TILE_RULE).tokens;
  const want = tokens(display);
  if (tokens(fitted) === want) return fitted;
  const landscape = display.width >= display.height;
  const long = landscape ? display.width : display.height;
  const short = landscape ? display.height : display.width;
  let best: { size: Size; error: number } | undefined;
  for (let l = maxSide; l >= Math.max(1, maxSide - 8); l--) {
    const exact = (short * l) / long;
    for (const s of [Math.floor(exact), Math.ceil(exact)]) {
      if (s < 1) continue;
      const size = landscape ? { width: l, height: s } : { width: s, height: l };
      const error = Math.abs(s / l - short / long);
      if (tokens(size) === want && (best === undefined || error < best.error)) best = { size, error };
    }
  }
  return best?.size ?? fitted;
}
