import { describe, expect, it } from "vitest";
import { estimateRequestTokens, estimateTextTokens } from "./request-tokens.ts";

describe("estimateRequestTokens", () => {
  it("adds image tokens by the model's rule to the text estimate", () => {
    expect(estimateTextTokens("abcd")).toBe(1);
    expect(estimateTextTokens("abcde")).toBe(2);
    expect(estimateTextTokens("ééé😀")).toBe(1); // code points, not bytes
    expect(estimateRequestTokens("gemini-2.5-flash", [{ width: 960, height: 540 }], "12345678")).toBe(
      1548 + 2,
    );
    expect(estimateRequestTokens("gemini-1.5-pro", [{ width: 4032, height: 3024 }], "")).toBe(24 * 258);
  });

  it("budgets unknown models by the 2.x rule instead of failing", () => {
    expect(estimateRequestTokens("someone-elses-model", [{ width: 100, height: 100 }], "")).toBe(258);
  });
});
