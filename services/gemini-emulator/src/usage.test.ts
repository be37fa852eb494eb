import { imageTokens, tokenRuleForModel } from "@tessera/imaging";
import { describe, expect, it } from "vitest";
import { promptTokens, textTokens, truncateToTokens, usageMetadata } from "./usage.ts";

describe("textTokens", () => {
  it("charges a token per four characters, rounding up", () => {
    expect(textTokens("")).toBe(0);
    expect(textTokens("abcd")).toBe(1);
    expect(textTokens("abcde")).toBe(2);
  });

  it("counts code points, not UTF-16 units or UTF-8 bytes", () => {
    expect(textTokens("Việt")).toBe(1);
    expect(textTokens("😀😀😀😀")).toBe(1);
  });
});

describe("promptTokens", () => {
  const rule = tokenRuleForModel("gemini-2.5-flash");

  it("adds text and per-image tokens and reports each modality present", () => {
    const images = [
      { width: 960, height: 540, mediaResolution: undefined },
      { width: 100, height: 100, mediaResolution: undefined },
    ];
    const result = promptTokens(["Describe", "these"], images, rule);
    const imageTotal = imageTokens({ width: 960, height: 540 }, rule).tokens + 258;
    expect(result).toEqual({
      text: 2 + 2,
      image: imageTotal,
      total: 4 + imageTotal,
      details: [
        { modality: "TEXT", tokenCount: 4 },
        { modality: "IMAGE", tokenCount: imageTotal },
      ],
    });
  });

  it("leaves out modalities the prompt does not have and applies media resolution per image", () => {
    const result = promptTokens([], [{ width: 960, height: 540, mediaResolution: "LOW" }], rule);
    expect(result.details).toEqual([{ modality: "IMAGE", tokenCount: 64 }]);
    expect(promptTokens(["hi"], [], rule).details).toEqual([{ modality: "TEXT", tokenCount: 1 }]);
  });
});

describe("usageMetadata", () => {
  it("totals prompt, output and thoughts and only mentions thoughts when there are some", () => {
    const prompt = promptTokens(["abcd"], [], tokenRuleForModel("gemini-2.0-flash"));
    expect(usageMetadata(prompt, 5, 0)).toEqual({
      promptTokenCount: 1,
      candidatesTokenCount: 5,
      totalTokenCount: 6,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: 1 }],
      candidatesTokensDetails: [{ modality: "TEXT", tokenCount: 5 }],
    });
    expect(usageMetadata(prompt, 5, 3)).toMatchObject({ totalTokenCount: 9, thoughtsTokenCount: 3 });
  });
});

describe("truncateToTokens", () => {
  it("keeps text that fits and cuts text that does not to what the budget holds", () => {
    expect(truncateToTokens("abcdefgh", 2)).toEqual({ text: "abcdefgh", truncated: false });
    const cut = truncateToTokens("abcdefghij", 2);
    expect(cut).toEqual({ text: "abcdefgh", truncated: true });
    expect(textTokens(cut.text)).toBe(2);
  });
});
