import {
  imageTokens,
  tokenRuleForModel,
  UnknownModelError,
  type ImageSize,
  type TokenRule,
} from "./tokens.ts";

/**
 * About four characters per token, Google's rule of thumb for English, counted in code points so
 * non-Latin text is not charged per UTF-8 byte. An estimate: Gemini's tokenizer is not public.
 */
export function estimateTextTokens(text: string): number {
  let codePoints = 0;
  for (const _ of text) codePoints += 1;
  return Math.ceil(codePoints / 4);
}

// Models without a published rule are budgeted like 2.x, the most common family; the estimate
// is only used to reserve rate-limit and budget capacity, and settles to the real usage.
const FALLBACK_RULE: TokenRule = tokenRuleForModel("gemini-2.5-flash");

/**
 * Input tokens of one request: its images by the model's rule plus its text parts (each part
 * estimated on its own, as Gemini tokenizes parts separately).
 */
export function estimateRequestTokens(
  model: string,
  images: ImageSize[],
  text: string | readonly string[],
): number {
  let rule: TokenRule;
  try {
    rule = tokenRuleForModel(model);
  } catch (err) {
    if (!(err instanceof UnknownModelError)) throw err;
    rule = FALLBACK_RULE;
  }
  const texts = typeof text === "string" ? [text] : text;
  return (
    images.reduce((sum, size) => sum + imageTokens(size, rule).tokens, 0) +
    texts.reduce((sum, part) => sum + estimateTextTokens(part), 0)
  );
}
