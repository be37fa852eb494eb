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
  const name = model.replace(/^models\//, "");
  const match = Object.keys(TABLE)
    .filter((prefix) => name.startsWith(prefix))
    .sort((a, b) => b.length - a.length)[0];
  return TABLE[match ?? "gemini-2.5"]!;
}
