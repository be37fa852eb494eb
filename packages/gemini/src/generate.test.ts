import type { GenerateContentParameters, GenerateContentResponse, GoogleGenAI } from "@google/genai";
import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { answerFrom, generate, usageFrom } from "./generate.ts";

const r = (value: unknown) => value as GenerateContentResponse;

describe("answerFrom", () => {
  it("joins text parts and leaves out thoughts", () => {
    const response = r({
      candidates: [
        {
          content: {
            parts: [{ text: "thinking...", thought: true }, { text: "A red " }, { text: "square." }],
          },
          finishReason: "STOP",
        },
      ],
    });
    expect(answerFrom(response)).toEqual({ text: "A red square.", finishReason: "STOP" });
  });

  it("refuses blocked prompts and answers", () => {
    const blocked = (response: GenerateContentResponse) => {
      try {
        answerFrom(response);
      } catch (err) {
        return err instanceof TesseraError ? err.errorClass : "other";
      }
      return "none";
    };
    expect(blocked(r({ promptFeedback: { blockReason: "SAFETY" } }))).toBe("blocked");
    expect(blocked(r({ candidates: [{ finishReason: "IMAGE_SAFETY", content: { parts: [] } }] }))).toBe(
      "blocked",
    );
    expect(blocked(r({ candidates: [{ finishReason: "STOP", content: { parts: [{ text: "  " }] } }] }))).toBe(
      "unparseable",
    );
  });
});

describe("usageFrom", () => {
  it("reads image tokens from the modality breakdown", () => {
    expect(
      usageFrom(
        r({
          usageMetadata: {
            promptTokenCount: 270,
            candidatesTokenCount: 12,
            totalTokenCount: 282,
            promptTokensDetails: [
              { modality: "TEXT", tokenCount: 12 },
              { modality: "IMAGE", tokenCount: 258 },
            ],
          },
        }),
      ),
    ).toEqual({ promptTokens: 270, outputTokens: 12, imageTokens: 258, thoughtsTokens: 0, totalTokens: 282 });
    expect(usageFrom(r({}))).toEqual({
      promptTokens: 0,
      outputTokens: 0,
      imageTokens: 0,
      thoughtsTokens: 0,
      totalTokens: 0,
    });
  });
});

describe("generate", () => {
  it("sends bytes inline and ready parts as they are, in order, before the prompt", async () => {
    const sent: GenerateContentParameters[] = [];
    const client = {
      models: {
        generateContent: (params: GenerateContentParameters) => {
          sent.push(params);
          return Promise.resolve(
            r({ candidates: [{ content: { parts: [{ text: "ok" }] }, finishReason: "STOP" }] }),
          );
        },
      },
    } as unknown as GoogleGenAI;
    const file = { fileData: { fileUri: "files/abc", mimeType: "image/jpeg" } };
    const url = { fileData: { fileUri: "https://example.com/a.webp?sig=1", mimeType: "image/webp" } };
    const result = await generate(client, {
      model: "gemini-2.5-flash",
      prompt: "Describe.",
      images: [file, { mimeType: "image/png", data: Buffer.from("png") }, url],
    });
    expect(result.text).toBe("ok");
    expect(sent[0]?.contents).toEqual([
      {
        role: "user",
        parts: [
          file,
          { inlineData: { mimeType: "image/png", data: Buffer.from("png").toString("base64") } },
          url,
          { text: "Describe." },
        ],
      },
    ]);
  });
});
