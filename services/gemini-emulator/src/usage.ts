// Token accounting in the shape of the API's usageMetadata. Image tokens follow the documented
// per-model rule (@tessera/imaging); text has no public tokenizer, so it is estimated.
import type { MediaResolution, TokenRule } from "@tessera/imaging";
import { imageTokens } from "@tessera/imaging";
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
