import { describe, expect, it } from "vitest";
import { splitProportional, usageShares } from "./shares.ts";

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe("splitProportional", () => {
  it("adds up to the total exactly and follows the weights", () => {
    expect(splitProportional(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(splitProportional(1_000, [258, 1_548])).toEqual([143, 857]);
    expect(splitProportional(7, [0, 0])).toEqual([4, 3]);
    expect(splitProportional(0, [5, 5])).toEqual([0, 0]);
    expect(splitProportional(5, [])).toEqual([]);
    for (const total of [0, 1, 17, 999, 123_457]) {
      const weights = [3, 0, 258, 1_032, 7];
      expect(sum(splitProportional(total, weights))).toBe(total);
    }
  });
});

describe("usageShares", () => {
  it("gives each image its share of a request's bill, adding up to the bill", () => {
    const usage = {
      promptTokens: 1_900,
      imageTokens: 1_806,
      outputTokens: 61,
      thoughtsTokens: 0,
      totalTokens: 1_961,
    };
    const shares = usageShares(usage, [258, 1_548]);
    expect(shares[0]!.imageTokens).toBe(258);
    expect(shares[1]!.imageTokens).toBe(1_548);
    for (const field of [
      "promptTokens",
      "imageTokens",
      "outputTokens",
      "thoughtsTokens",
      "totalTokens",
    ] as const) {
      expect(sum(shares.map((s) => s[field])), field).toBe(usage[field]);
    }
    expect(usageShares(usage, [258])).toEqual([usage]);
  });
});
