/**
 * Request limits per model family (the guide and GEMINI.md): images per request, input tokens
 * and the inline request size. Longest matching prefix wins; unknown models get the 2.5 figures.
 */
export interface ModelRequestLimits {
  maxImagesPerRequest: number;
  maxInputTokens: number;
  maxOutputTokens: number;
}

const TABLE: Readonly<Record<string, ModelRequestLimits>> = {
  "gemini-3-pro": { maxImagesPerRequest: 900, maxInputTokens: 1_048_576, maxOutputTokens: 65_536 },
  "gemini-2.5": { maxImagesPerRequest: 3_600, maxInputTokens: 1_048_576, maxOutputTokens: 65_536 },
  "gemini-2.0": { maxImagesPerRequest: 3_600, maxInputTokens: 1_048_576, maxOutputTokens: 8_192 },
  "gemini-1.5": { maxImagesPerRequest: 3_600, maxInputTokens: 1_048_576, maxOutputTokens: 8_192 },
};

export function modelRequestLimits(model: string): ModelRequestLimits {
  return byModelPrefix(TABLE, model) ?? TABLE["gemini-2.5"]!;
}

/** The limits one request must stay within, for packing images into requests. */
export interface RequestLimits {
  maxImagesPerRequest: number;
  /** Inline request size, base64 and overhead included. */
  maxInlineBytes: number;
  maxInputTokens: number;
}

/** Longest matching model prefix in `table`, or undefined. */
export function byModelPrefix<T>(table: Readonly<Record<string, T>>, model: string): T | undefined {
  const name = model.replace(/^models\//, "");
  const match = Object.keys(table)
    .filter((prefix) => name.startsWith(prefix))
    .sort((a, b) => b.length - a.length)[0];
  return match === undefined ? undefined : table[match];
}
