import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES } from "@tessera/config";
import { defaultMaxOutputTokens, estimateFromScan } from "./estimate.ts";

describe("estimateFromScan", () => {
  const config = { model: "gemini-2.5-flash", task: "caption" as const, maxOutputTokens: 1024 };

  it("sums input tokens, spreads them per image and prices input and output apart", () => {
    const estimate = estimateFromScan(
      config,
      { imageTokens: [300, 1_100, 284, 1_600], estimatedPromptTokens: 3_284, requests: 2 },
      DEFAULT_PRICES,
    );
    expect(estimate).toMatchObject({
      images: 4,
      requests: 2,
      promptTokens: 3_284,
      perImage: { min: 284, median: 700, max: 1_600 },
      outputTokens: 240,
    });
    // 3,284 x $0.30/M + 240 x $2.50/M
    expect(estimate.costMicros).toBe(Math.ceil(3_284 * 0.3 + 240 * 2.5));
  });

  it("leaves the cost unknown for a model without a price, and handles an empty source", () => {
    expect(
      estimateFromScan(
        { ...config, model: "mystery" },
        { imageTokens: [258], estimatedPromptTokens: 258, requests: 1 },
        DEFAULT_PRICES,
      ).costMicros,
    ).toBeUndefined();
    expect(
      estimateFromScan(config, { imageTokens: [], estimatedPromptTokens: 0, requests: 0 }, DEFAULT_PRICES),
    ).toMatchObject({ images: 0, perImage: undefined, costMicros: 0 });
  });

  it("scales the default output cap with the images of a request, within the model's limit", () => {
    expect(defaultMaxOutputTokens("caption", "gemini-2.5-flash")).toBe(1_024);
    expect(defaultMaxOutputTokens("caption", "gemini-2.5-flash", 10)).toBe(10_240);
    expect(defaultMaxOutputTokens("caption", "gemini-2.5-flash", 1_000)).toBe(65_536);
    expect(defaultMaxOutputTokens("classify", "gemini-2.0-flash", 100)).toBe(8_192);
  });
});
