import { describe, expect, it } from "vitest";
import type { TokenRule } from "./tokens.ts";
import { UnknownModelError, imageTokens, parseMediaResolution, tokenRuleForModel } from "./tokens.ts";

describe("imageTokens for Gemini 2.0 / 2.5", () => {
  it("charges 258 when both sides fit in 384 px", () => {
    expect(imageTokens({ width: 384, height: 384 }, "gemini-2.5-flash")).toEqual({
      tokens: 258,
      tiles: null,
    });
    expect(imageTokens({ width: 1, height: 1 }, "gemini-2.0-flash")).toEqual({ tokens: 258, tiles: null });
  });

  it("reproduces the guide's worked example: 960x540 -> 6 tiles = 1548", () => {
    expect(imageTokens({ width: 960, height: 540 }, "gemini-2.0-flash")).toEqual({
      tokens: 1548,
      tiles: { cols: 3, rows: 2, cropUnit: 360 },
    });
  });

  it("charges any 4:3 photo above 384 px as 4 tiles, whatever its size", () => {
    for (const [width, height] of [
      [640, 480],
      [4032, 3024],
      [1024, 768],
      [480, 640],
    ] as const) {
      const count = imageTokens({ width, height }, "gemini-2.5-pro");
      expect(count.tokens, `${width}x${height}`).toBe(1032);
      expect(count.tiles && count.tiles.cols * count.tiles.rows).toBe(4);
    }
  });

  it("tiles just above the small-image threshold", () => {
    expect(imageTokens({ width: 385, height: 384 }, "gemini-2.5-flash")).toEqual({
      tokens: 4 * 258,
      tiles: { cols: 2, rows: 2, cropUnit: 256 },
    });
  });

  it("does not divide by zero for a 1-pixel-thin strip", () => {
    const count = imageTokens({ width: 1000, height: 1 }, "gemini-2.5-flash");
    expect(count.tiles).toEqual({ cols: 1000, rows: 1, cropUnit: 1 });
    expect(count.tokens).toBe(1000 * 258);
  });

  it("uses the flat 2.5 figures for LOW and MEDIUM media resolution, tiling otherwise", () => {
    const size = { width: 960, height: 540 };
    expect(imageTokens(size, "gemini-2.5-flash", { mediaResolution: "LOW" }).tokens).toBe(64);
    expect(imageTokens(size, "gemini-2.5-flash", { mediaResolution: "MEDIUM" }).tokens).toBe(256);
    expect(imageTokens(size, "gemini-2.5-flash", { mediaResolution: "HIGH" }).tokens).toBe(1548);
    expect(imageTokens(size, "gemini-2.0-flash", { mediaResolution: "LOW" }).tokens).toBe(1548);
  });
});

describe("imageTokens for Gemini 1.5", () => {
  it("clamps the crop unit to 768: a 4032x3024 photo is 6 x 4 = 24 tiles", () => {
    expect(imageTokens({ width: 4032, height: 3024 }, "gemini-1.5-pro")).toEqual({
      tokens: 24 * 258,
      tiles: { cols: 6, rows: 4, cropUnit: 768 },
    });
  });

  it("clamps the crop unit up to 256 for narrow images", () => {
    // floor(300 / 1.5) = 200 would be the 2.x unit; 1.5 raises it to 256.
    expect(imageTokens({ width: 2000, height: 300 }, "gemini-1.5-flash")).toEqual({
      tokens: 8 * 2 * 258,
      tiles: { cols: 8, rows: 2, cropUnit: 256 },
    });
    expect(imageTokens({ width: 2000, height: 300 }, "gemini-2.5-flash").tiles).toEqual({
      cols: 10,
      rows: 2,
      cropUnit: 200,
    });
  });

  it("keeps the 258 flat rate for small images", () => {
    expect(imageTokens({ width: 300, height: 200 }, "gemini-1.5-flash")).toEqual({
      tokens: 258,
      tiles: null,
    });
  });
});

describe("imageTokens for Gemini 3", () => {
  it("charges by media resolution, HIGH by default, whatever the size", () => {
    const model = "gemini-3-pro-preview";
    expect(imageTokens({ width: 10, height: 10 }, model)).toEqual({ tokens: 1120, tiles: null });
    expect(imageTokens({ width: 8000, height: 6000 }, model).tokens).toBe(1120);
    expect(imageTokens({ width: 960, height: 540 }, model, { mediaResolution: "LOW" }).tokens).toBe(280);
    expect(imageTokens({ width: 960, height: 540 }, model, { mediaResolution: "MEDIUM" }).tokens).toBe(560);
    expect(imageTokens({ width: 960, height: 540 }, model, { mediaResolution: "ULTRA_HIGH" }).tokens).toBe(
      2240,
    );
  });
});

describe("tokenRuleForModel", () => {
  it("matches model families, with or without the models/ prefix", () => {
    expect(tokenRuleForModel("gemini-2.5-flash-lite").family).toBe("gemini-2.5");
    expect(tokenRuleForModel("models/gemini-2.0-flash").family).toBe("gemini-2.0");
    expect(tokenRuleForModel("gemini-1.5-pro").family).toBe("gemini-1.5");
    expect(tokenRuleForModel("gemini-3-flash-preview").family).toBe("gemini-3");
  });

  it("throws UnknownModelError naming the model", () => {
    expect(() => tokenRuleForModel("gpt-4o")).toThrow(UnknownModelError);
    expect(() => imageTokens({ width: 10, height: 10 }, "gemini-pro-vision")).toThrow(/gemini-pro-vision/);
    try {
      tokenRuleForModel("claude");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UnknownModelError);
      expect((error as UnknownModelError).model).toBe("claude");
    }
  });

  it("lets a caller price an unknown model with an explicit rule", () => {
    const rule: TokenRule = {
      kind: "tiled",
      family: "custom",
      tokensPerTile: 100,
      smallMaxSide: 512,
      cropUnit: { divisor: 2 },
    };
    expect(imageTokens({ width: 512, height: 512 }, rule)).toEqual({ tokens: 100, tiles: null });
    expect(imageTokens({ width: 1000, height: 600 }, rule)).toEqual({
      tokens: 800,
      tiles: { cols: 4, rows: 2, cropUnit: 300 },
    });
  });
});

describe("input validation", () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects width %s with a RangeError", (bad) => {
    expect(() => imageTokens({ width: bad, height: 10 }, "gemini-2.5-flash")).toThrow(RangeError);
    expect(() => imageTokens({ width: bad, height: 10 }, "gemini-2.5-flash")).toThrow(/width.*got/);
  });

  it("names the height when the height is bad", () => {
    expect(() => imageTokens({ width: 10, height: 0 }, "gemini-2.5-flash")).toThrow(
      "image height must be a positive integer, got 0",
    );
  });

  it("validates the size before looking up the model", () => {
    expect(() => imageTokens({ width: 0, height: 10 }, "unknown-model")).toThrow(RangeError);
  });
});

describe("parseMediaResolution", () => {
  it("accepts short names and the API's wire values", () => {
    expect(parseMediaResolution("LOW")).toBe("LOW");
    expect(parseMediaResolution("MEDIA_RESOLUTION_ULTRA_HIGH")).toBe("ULTRA_HIGH");
    expect(parseMediaResolution("MEDIA_RESOLUTION_UNSPECIFIED")).toBeUndefined();
    expect(parseMediaResolution("low")).toBeUndefined();
  });
});
