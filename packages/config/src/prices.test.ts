import { describe, expect, it } from "vitest";
import { costMicros, DEFAULT_PRICES, priceFor, UnknownPriceError } from "./prices.ts";

describe("prices", () => {
  it("picks the longest matching prefix", () => {
    expect(priceFor(DEFAULT_PRICES, "gemini-2.5-flash-lite-preview")).toEqual({ input: 0.1, output: 0.4 });
    expect(priceFor(DEFAULT_PRICES, "models/gemini-2.5-flash")).toEqual({ input: 0.3, output: 2.5 });
    expect(() => priceFor(DEFAULT_PRICES, "claude")).toThrow(UnknownPriceError);
  });

  it("prices input and output apart, in micro-dollars", () => {
    // 1M input tokens at $0.30 + 1k output tokens at $2.50/M = $0.3025
    expect(costMicros({ input: 0.3, output: 2.5 }, 1_000_000, 1_000)).toBe(302_500);
    expect(costMicros({ input: 0.3, output: 2.5 }, 1, 0)).toBe(1);
  });
});
