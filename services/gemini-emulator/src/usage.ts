// Token accounting in the shape of the API's usageMetadata. Image tokens follow the documented
// per-model rule (@tessera/imaging); text has no public tokenizer, so it is estimated.
import type { MediaResolution, TiledTokenRule, TokenRule } from "@tessera/imaging";
import { imageTokens } from "@tessera/imaging";
import { invalidArgument } from "./errors.ts";
import type { ImageSizeInfo } from "./image.ts";

export type Modality = "TEXT" | "IMAGE";

export interface ModalityTokenCount {
  modality: Modality;
  tokenCount: number;
}

export interface PromptTokens {
  text: number;
  image: number;
  total: number;
  details: ModalityTokenCount[];
}

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
  promptTokensDetails: ModalityTokenCount[];
  candidatesTokensDetails: ModalityTokenCount[];
  thoughtsTokenCount?: number;
}

/**
 * About four characters per token, Google's rule of thumb for English, counted in Unicode code
 * points so accented and non-Latin text is not charged per UTF-8 byte. Real counts differ by
 * tokenizer; tests should compare text tokens with this function, not with constants.
 */
export function textTokens(text: string): number {
  let codePoints = 0;
  for (const _ of text) codePoints += 1;
  return Math.ceil(codePoints / 4);
}

export interface PricedImage extends ImageSizeInfo {
  mediaResolution: MediaResolution | undefined;
}

export function promptTokens(
  texts: readonly string[],
  images: readonly PricedImage[],
  rule: TokenRule,
): PromptTokens {
  const text = texts.reduce((sum, part) => sum + textTokens(part), 0);
  const image = images.reduce(
    (sum, size) => sum + imageTokens(size, rule, { mediaResolution: size.mediaResolution }).tokens,
    0,
  );
  // Like the API, a modality appears only when the prompt has parts of it.
  const details: ModalityTokenCount[] = [];
  if (texts.length > 0) details.push({ modality: "TEXT", tokenCount: text });
  if (images.length > 0) details.push({ modality: "IMAGE", tokenCount: image });
  return { text, image, total: text + image, details };
}

export function usageMetadata(
  prompt: PromptTokens,
  candidatesTokens: number,
  thoughtsTokens: number,
): UsageMetadata {
  return {
    promptTokenCount: prompt.total,
    candidatesTokenCount: candidatesTokens,
    totalTokenCount: prompt.total + candidatesTokens + thoughtsTokens,
    promptTokensDetails: prompt.details,
    candidatesTokensDetails: [{ modality: "TEXT", tokenCount: candidatesTokens }],
    ...(thoughtsTokens > 0 ? { thoughtsTokenCount: thoughtsTokens } : {}),
  };
}

/** Cuts text to what `maxTokens` output tokens can hold under the same estimate. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  if (textTokens(text) <= maxTokens) return { text, truncated: false };
  return { text: [...text].slice(0, maxTokens * 4).join(""), truncated: true };
}

/**
 * The image token rules a served model can be switched to by name, so a test can reproduce what
 * either billing behaviour would do to a budget:
 * - `tiled`: the guide's rule for 2.x (258 up to 384x384, else 258 per crop-unit tile);
 * - `tiled-1.5`: the 1.5 rule (crop unit clamped to 256..768 px);
 * - `flat258`: 258 per image whatever its size, what the Developer API has been observed to bill;
 * - `media-resolution`: Gemini 3's flat cost per mediaResolution level (HIGH by default).
 */
export const IMAGE_TOKEN_RULES = ["tiled", "tiled-1.5", "flat258", "media-resolution"] as const;
export type ImageTokenRuleName = (typeof IMAGE_TOKEN_RULES)[number];

export function isImageTokenRuleName(value: string): value is ImageTokenRuleName {
  return (IMAGE_TOKEN_RULES as readonly string[]).includes(value);
}

/**
 * `family` is the model's own rule when @tessera/imaging knows it: its documented mediaResolution
 * prices (2.5's LOW 64 / MEDIUM 256) carry over to the tiled and flat rules, as a caller asking for
 * LOW would still get them.
 */
export function namedTokenRule(name: ImageTokenRuleName, family: TokenRule | undefined): TokenRule {
  const resolutionPrices = family?.kind === "tiled" ? family.mediaResolution : undefined;
  const tiled = (cropUnit: TiledTokenRule["cropUnit"], familyName: string): TiledTokenRule => ({
    kind: "tiled",
    family: familyName,
    tokensPerTile: 258,
    smallMaxSide: 384,
    cropUnit,
    ...(resolutionPrices === undefined ? {} : { mediaResolution: resolutionPrices }),
  });
  switch (name) {
    case "tiled":
      return tiled({ divisor: 1.5 }, "tiled");
    case "tiled-1.5":
      return tiled({ divisor: 1.5, min: 256, max: 768 }, "tiled-1.5");
    case "flat258":
      // Every real image fits in one "small" tile, so each costs exactly one tile's 258.
      return { ...tiled({ divisor: 1.5 }, "flat258"), smallMaxSide: Number.MAX_SAFE_INTEGER };
    case "media-resolution":
      return {
        kind: "resolution",
        family: "media-resolution",
        tokens: { LOW: 280, MEDIUM: 560, HIGH: 1120, ULTRA_HIGH: 2240 },
        defaultResolution: "HIGH",
      };
  }
}

/** The API's answer to a prompt over the model's context window (its message, no details). */
export function checkInputTokens(promptTokens: number, limit: number): void {
  if (promptTokens > limit) {
    throw invalidArgument(
      `The input token count (${promptTokens}) exceeds the maximum number of tokens allowed (${limit}).`,
    );
  }
}

/** maxOutputTokens above the model's output limit is refused, not clamped, as observed on 2.x. */
export function checkMaxOutputTokens(requested: number | undefined, limit: number): void {
  if (requested === undefined || requested <= limit) return;
  throw invalidArgument(
    `Unable to submit request because it has a maxOutputTokens value of ${requested} but the supported range ` +
      `is from 1 (inclusive) to ${limit + 1} (exclusive). Update the value and try again.`,
  );
}
