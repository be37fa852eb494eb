import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createGeminiClient, generate } from "../src/index.ts";

// The live tier: the caption path against the real Gemini API. It costs a few hundred tokens and
// runs only when GEMINI_API_KEY is set (and GOOGLE_GEMINI_BASE_URL does not point elsewhere).
const apiKey = process.env.GEMINI_API_KEY;
const live = apiKey !== undefined && apiKey !== "" && !process.env.GOOGLE_GEMINI_BASE_URL;
if (!live) console.info("live Gemini tier skipped: GEMINI_API_KEY is not set");

describe.skipIf(!live)("live Gemini API", () => {
  it("captions an image inline and reports image tokens", async () => {
    const client = createGeminiClient({ apiKey: apiKey!, timeoutMs: 60_000 });
    const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: "#d01010" } })
      .png()
      .toBuffer();
    const result = await generate(client, {
      model: process.env.GEMINI_MODEL ?? "gemini-2.5-flash",
      prompt: "What is the dominant colour of this image? Answer in one word.",
      images: [{ mimeType: "image/png", data: image }],
    });
    expect(result.text.toLowerCase()).toContain("red");
    expect(result.usage.imageTokens).toBeGreaterThan(0);
    expect(result.usage.promptTokens).toBeGreaterThan(result.usage.imageTokens);
    expect(result.finishReason).toBe("STOP");
  });
});
