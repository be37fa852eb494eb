import { tokenRuleForModel } from "@tessera/imaging";
import { describe, expect, it } from "vitest";
import { resolveModels } from "./options.ts";

describe("resolveModels: token rules and limits per model", () => {
  it("uses each model's documented rule and published limits by default", () => {
    const models = resolveModels({});
    expect(models.get("gemini-2.5-flash")).toEqual({
      rule: tokenRuleForModel("gemini-2.5-flash"),
      maxImages: 3600,
      maxInputTokens: 1_048_576,
      maxOutputTokens: 65_536,
    });
    expect(models.get("gemini-2.0-flash")).toMatchObject({ maxOutputTokens: 8192 });
    expect(models.get("gemini-1.5-pro")).toMatchObject({ maxInputTokens: 2_097_152, maxOutputTokens: 8192 });
    expect(models.get("gemini-3-pro-preview")).toMatchObject({ maxImages: 900, maxOutputTokens: 65_536 });
  });

  it("switches rules by name, for every model or per model", () => {
    const everyModel = resolveModels({ imageTokenRule: "flat258" });
    expect(everyModel.get("gemini-2.5-pro")?.rule).toMatchObject({ family: "flat258" });
    expect(everyModel.get("gemini-3-pro-preview")?.rule).toMatchObject({ family: "flat258" });

    const perModel = resolveModels({ imageTokenRule: { "gemini-2.5-flash": "tiled-1.5" } });
    expect(perModel.get("gemini-2.5-flash")?.rule).toMatchObject({ family: "tiled-1.5" });
    expect(perModel.get("gemini-2.5-pro")?.rule).toEqual(tokenRuleForModel("gemini-2.5-pro"));
  });

  it("lets a global limit override the per-model defaults and a per-model one override that", () => {
    const models = resolveModels({
      maxInputTokens: 1000,
      maxOutputTokens: 100,
      maxOutputTokensByModel: { "gemini-2.5-pro": 50 },
    });
    expect(models.get("gemini-1.5-pro")).toMatchObject({ maxInputTokens: 1000, maxOutputTokens: 100 });
    expect(models.get("gemini-2.5-pro")).toMatchObject({ maxOutputTokens: 50 });
  });

  it("names the setting when a model id or a value is wrong", () => {
    expect(() => resolveModels({ imageTokenRule: { "gemini-9": "tiled" } })).toThrow(
      "imageTokenRule names models not served: gemini-9",
    );
    expect(() => resolveModels({ imageTokenRule: "hexagonal" as never })).toThrow(/imageTokenRule for/);
    expect(() => resolveModels({ maxInputTokens: 0 })).toThrow(/maxInputTokens for gemini-2.0-flash/);
    expect(() => resolveModels({ maxOutputTokensByModel: { nope: 5 } })).toThrow(/maxOutputTokensByModel/);
  });
});
