import { imageTokens, tokenRuleForModel } from "@tessera/imaging";
import { describe, expect, it } from "vitest";
import {
  checkInputTokens,
  checkMaxOutputTokens,
  namedTokenRule,
  promptTokens,
  textTokens,
  truncateToTokens,
  usageMetadata,
} from "./usage.ts";

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

describe("namedTokenRule", () => {
  const flash = tokenRuleForModel("gemini-2.5-flash");
  const tokens = (rule: ReturnType<typeof namedTokenRule>, width: number, height: number, low = false) =>
    imageTokens({ width, height }, rule, low ? { mediaResolution: "LOW" } : {}).tokens;

  it("tiled: the guide's 2.x rule, e.g. 960x540 -> 6 tiles", () => {
    expect(tokens(namedTokenRule("tiled", flash), 960, 540)).toBe(1548);
    expect(tokens(namedTokenRule("tiled", flash), 384, 384)).toBe(258);
  });

  it("tiled-1.5: the crop unit clamped to 256..768, e.g. a 4032x3024 photo -> 24 tiles", () => {
    expect(tokens(namedTokenRule("tiled-1.5", flash), 4032, 3024)).toBe(24 * 258);
    expect(tokens(namedTokenRule("tiled", flash), 4032, 3024)).toBe(4 * 258);
  });

  it("flat258: 258 per image whatever its size, as the Developer API has billed", () => {
    for (const [width, height] of [
      [10, 10],
      [2048, 1362],
      [3840, 2160],
      [1, 20_000],
    ] as const) {
      expect(tokens(namedTokenRule("flat258", flash), width, height)).toBe(258);
    }
  });

  it("media-resolution: Gemini 3's flat prices, HIGH by default", () => {
    const rule = namedTokenRule("media-resolution", undefined);
    expect(tokens(rule, 4032, 3024)).toBe(1120);
    expect(tokens(rule, 4032, 3024, true)).toBe(280);
  });

  it("keeps the family's documented mediaResolution prices on the tiled and flat rules", () => {
    expect(tokens(namedTokenRule("flat258", flash), 4032, 3024, true)).toBe(64);
    expect(tokens(namedTokenRule("tiled", tokenRuleForModel("gemini-2.0-flash")), 4032, 3024, true)).toBe(
      4 * 258,
    );
  });
});

describe("token limits", () => {
  it("refuses a prompt over the context window with the API's message", () => {
    expect(() => checkInputTokens(1_048_576, 1_048_576)).not.toThrow();
    expect(() => checkInputTokens(1_048_577, 1_048_576)).toThrow(
      "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
    );
  });

  it("refuses maxOutputTokens over the model's limit, stating the range as the API does", () => {
    expect(() => checkMaxOutputTokens(undefined, 8192)).not.toThrow();
    expect(() => checkMaxOutputTokens(65_536, 65_536)).not.toThrow();
    expect(() => checkMaxOutputTokens(65_537, 65_536)).toThrow(
      "Unable to submit request because it has a maxOutputTokens value of 65537 but the supported range is " +
        "from 1 (inclusive) to 65537 (exclusive). Update the value and try again.",
    );
  });
});
