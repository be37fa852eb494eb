// The emulator's promise: the real @google/genai SDK, pointed at it with httpOptions.baseUrl and
// nothing else, works and fails the way it does against Google.
import type { GenerateContentParameters } from "@google/genai";
import {
  ApiError,
  GoogleGenAI,
  MediaResolution,
  Type,
  createPartFromBase64,
  createPartFromUri,
} from "@google/genai";
import { imageTokens } from "@tessera/imaging";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator, EmulatorRequestEvent } from "../src/index.ts";
import { startEmulator, textTokens } from "../src/index.ts";
import { describeFilesAndBatchesContract } from "./files-and-batches-sdk.ts";

const MODEL = "gemini-2.5-flash";
const PROMPT = "Describe this image.";
const CAPTION = "A 640x480 image, mostly red (#d01010), with blue (#1030c0).";

let emulator: Emulator;
let ai: GoogleGenAI;
let png: string;
const events: EmulatorRequestEvent[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, onRequest: (event) => events.push(event) });
  ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: emulator.url } });
  const band = await sharp({ create: { width: 200, height: 480, channels: 3, background: "#1030c0" } })
    .png()
    .toBuffer();
  const image = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#d01010" } })
    .composite([{ input: band, left: 440, top: 0 }])
    .png()
    .toBuffer();
  png = image.toString("base64");
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  events.length = 0;
  emulator.resetStats();
});

function describeRequest(data = png, mimeType = "image/png"): GenerateContentParameters {
  // The guide's advice for one image: image part first, then the text.
  return { model: MODEL, contents: [createPartFromBase64(data, mimeType), PROMPT] };
}

async function apiErrorOf(
  call: Promise<unknown>,
): Promise<{ status: number; body: { error: Record<string, unknown> } }> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  return {
    status: apiError.status,
    body: JSON.parse(apiError.message) as { error: Record<string, unknown> },
  };
}

describe("generateContent through the SDK", () => {
  it("captions a PNG on the SDK's default /v1 path and bills the documented image tokens", async () => {
    const response = await ai.models.generateContent(describeRequest());
    expect(response.text).toBe(CAPTION);
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.modelVersion).toBe(MODEL);
    expect(response.responseId).toMatch(/^[A-Za-z0-9_-]{16,}$/);

    const image = imageTokens({ width: 640, height: 480 }, MODEL).tokens;
    expect(response.usageMetadata?.promptTokensDetails).toEqual([
      { modality: "TEXT", tokenCount: textTokens(PROMPT) },
      { modality: "IMAGE", tokenCount: image },
    ]);
    expect(response.usageMetadata?.promptTokenCount).toBe(image + textTokens(PROMPT));
    expect(response.usageMetadata?.totalTokenCount).toBe(
      image + textTokens(PROMPT) + response.usageMetadata!.candidatesTokenCount!,
    );

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      method: "POST",
      path: `/v1/models/${MODEL}:generateContent`,
      status: 200,
    });
    expect(events[0]?.headers).toMatchObject({
      "content-type": "application/json",
      "x-goog-api-key": "<redacted>",
      "x-goog-api-client": expect.stringMatching(/^google-genai-sdk\/3\./) as unknown,
    });
    expect(emulator.stats).toMatchObject({
      billedPromptTokens: response.usageMetadata?.promptTokenCount,
      billedOutputTokens: response.usageMetadata?.candidatesTokenCount,
      imagesSeen: 1,
    });
  });

  it("answers the same on /v1beta, which SDK 2.x used and apiVersion selects", async () => {
    const beta = new GoogleGenAI({
      apiKey: "test-key",
      httpOptions: { baseUrl: emulator.url, apiVersion: "v1beta" },
    });
    const response = await beta.models.generateContent(describeRequest());
    expect(response.text).toBe(CAPTION);
    expect(events[0]?.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(emulator.stats.byApiVersion).toEqual({ v1beta: 1 });
  });

  it("describes several images, one numbered sentence each", async () => {
    const small = (
      await sharp({ create: { width: 64, height: 32, channels: 3, background: "#ffff00" } })
        .jpeg()
        .toBuffer()
    ).toString("base64");
    const response = await ai.models.generateContent({
      model: MODEL,
      contents: [
        createPartFromBase64(png, "image/png"),
        createPartFromBase64(small, "image/jpeg"),
        "What differs?",
      ],
    });
    expect(response.text).toMatch(
      /^Image 1: A 640x480 image, mostly red .*\. Image 2: A 64x32 image, mostly yellow/,
    );
    const imageTotal =
      imageTokens({ width: 640, height: 480 }, MODEL).tokens +
      imageTokens({ width: 64, height: 32 }, MODEL).tokens;
    expect(response.usageMetadata?.promptTokensDetails).toContainEqual({
      modality: "IMAGE",
      tokenCount: imageTotal,
    });
  });

  it("returns JSON in JSON mode, shaped by responseSchema or responseJsonSchema when given", async () => {
    const plain = await ai.models.generateContent({
      ...describeRequest(),
      config: { responseMimeType: "application/json" },
    });
    expect(JSON.parse(plain.text!)).toEqual({ caption: CAPTION });

    const typed = await ai.models.generateContent({
      ...describeRequest(),
      config: {
        responseMimeType: "application/json",
        responseSchema: {
          type: Type.OBJECT,
          properties: {
            caption: { type: Type.STRING },
            colour: { type: Type.STRING, enum: ["green", "red", "blue"] },
            width: { type: Type.INTEGER },
            tags: { type: Type.ARRAY, items: { type: Type.STRING } },
          },
          required: ["caption", "colour"],
        },
      },
    });
    expect(JSON.parse(typed.text!)).toEqual({
      caption: CAPTION,
      colour: "red",
      width: 640,
      tags: ["red", "blue"],
    });

    const jsonSchema = await ai.models.generateContent({
      ...describeRequest(),
      config: {
        responseMimeType: "application/json",
        responseJsonSchema: {
          type: "array",
          items: {
            type: "object",
            properties: { label: { type: "string" }, box_2d: { type: "array", items: { type: "integer" } } },
          },
        },
      },
    });
    expect(JSON.parse(jsonSchema.text!)).toEqual([{ label: "red", box_2d: [0, 0, 1000, 1000] }]);
  });

  it("stops at maxOutputTokens with finishReason MAX_TOKENS", async () => {
    const response = await ai.models.generateContent({
      ...describeRequest(),
      config: { maxOutputTokens: 2 },
    });
    expect(response.candidates?.[0]?.finishReason).toBe("MAX_TOKENS");
    expect(response.text).toBe(CAPTION.slice(0, 8));
    expect(response.usageMetadata?.candidatesTokenCount).toBe(2);
  });

  it("prices Gemini 3 images by the mediaResolution the SDK sends", async () => {
    const response = await ai.models.generateContent({
      ...describeRequest(),
      model: "gemini-3-pro-preview",
      config: { mediaResolution: MediaResolution.MEDIA_RESOLUTION_LOW },
    });
    expect(response.usageMetadata?.promptTokensDetails).toContainEqual({
      modality: "IMAGE",
      tokenCount: 280,
    });
  });
});

describe("countTokens through the SDK", () => {
  it("counts the same prompt tokens generateContent bills, and bills nothing itself", async () => {
    const counted = await ai.models.countTokens({ model: MODEL, contents: describeRequest().contents });
    expect(counted.totalTokens).toBe(
      imageTokens({ width: 640, height: 480 }, MODEL).tokens + textTokens(PROMPT),
    );
    expect(events[0]?.path).toBe(`/v1/models/${MODEL}:countTokens`);
    expect(emulator.stats).toMatchObject({ billedPromptTokens: 0, billedOutputTokens: 0 });
  });
});

describe("errors through the SDK", () => {
  it("404s an unknown model with the API's message", async () => {
    const { status, body } = await apiErrorOf(
      ai.models.generateContent({ ...describeRequest(), model: "gemini-0.9-ultra" }),
    );
    expect(status).toBe(404);
    expect(body.error).toMatchObject({
      code: 404,
      status: "NOT_FOUND",
      message: expect.stringMatching(
        /^models\/gemini-0\.9-ultra is not found for API version v1, or is not supported for generateContent/,
      ) as unknown,
    });
  });

  it("400s an unsupported MIME type", async () => {
    const gif = (
      await sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } })
        .gif()
        .toBuffer()
    ).toString("base64");
    const { status, body } = await apiErrorOf(ai.models.generateContent(describeRequest(gif, "image/gif")));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      status: "INVALID_ARGUMENT",
      message: "Unsupported MIME type: image/gif",
    });
  });

  it("400s bytes that do not match the declared type, and corrupt images", async () => {
    const jpeg = (
      await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } })
        .jpeg()
        .toBuffer()
    ).toString("base64");
    const mismatch = await apiErrorOf(ai.models.generateContent(describeRequest(jpeg, "image/png")));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.message).toMatch(/^Unable to process input image\./);
    expect(JSON.stringify(mismatch.body)).toContain("declared image/png, but the bytes look like image/jpeg");

    const torn = Buffer.from(png, "base64").subarray(0, 200).toString("base64");
    const corrupt = await apiErrorOf(ai.models.generateContent(describeRequest(torn)));
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.error.message).toMatch(/^Unable to process input image\./);
  });

  it("403s a fileData part naming no file, as the API does for a missing or foreign one", async () => {
    const { status, body } = await apiErrorOf(
      ai.models.generateContent({
        model: MODEL,
        contents: [createPartFromUri("files/abc123", "image/png"), PROMPT],
      }),
    );
    expect(status).toBe(403);
    expect(body.error).toMatchObject({
      status: "PERMISSION_DENIED",
      message: "You do not have permission to access the File abc123 or it may not exist.",
    });
  });

  it("429s with QuotaFailure and RetryInfo, and the SDK does not retry on its own", async () => {
    emulator.failNext(1, 429);
    const { status, body } = await apiErrorOf(ai.models.generateContent(describeRequest()));
    expect(status).toBe(429);
    expect(body.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
    expect(body.error.details).toEqual([
      expect.objectContaining({ "@type": "type.googleapis.com/google.rpc.QuotaFailure" }),
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2s" },
    ]);
    expect(emulator.stats.requests).toBe(1);
    await expect(ai.models.generateContent(describeRequest())).resolves.toHaveProperty("text", CAPTION);
  });

  it("503s when overloaded and 500s on internal errors", async () => {
    emulator.failNext(1, 503);
    emulator.failNext(1, 500);
    const overloaded = await apiErrorOf(ai.models.generateContent(describeRequest()));
    expect(overloaded.status).toBe(503);
    expect(overloaded.body.error).toMatchObject({
      status: "UNAVAILABLE",
      message: "The model is overloaded. Please try again later.",
    });
    const internal = await apiErrorOf(ai.models.countTokens({ model: MODEL, contents: "hi" }));
    expect(internal.status).toBe(500);
    expect(internal.body.error).toMatchObject({ status: "INTERNAL" });
    expect(emulator.stats.byStatus).toEqual({ 503: 1, 500: 1 });
    expect(emulator.stats.billedPromptTokens).toBe(0);
  });

  it("rejects keys outside apiKeys with API_KEY_INVALID", async () => {
    const strict = await startEmulator({ apiKeys: ["good-key"] });
    try {
      const client = (apiKey: string) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: strict.url } });
      const { status, body } = await apiErrorOf(client("bad-key").models.generateContent(describeRequest()));
      expect(status).toBe(400);
      expect(body.error).toMatchObject({
        status: "INVALID_ARGUMENT",
        message: "API key not valid. Please pass a valid API key.",
      });
      expect(body.error.details).toContainEqual(expect.objectContaining({ reason: "API_KEY_INVALID" }));
      await expect(client("good-key").models.generateContent(describeRequest())).resolves.toHaveProperty(
        "text",
        CAPTION,
      );
    } finally {
      await strict.close();
    }
  });
});

describeFilesAndBatchesContract({
  label: "SDK 3.x",
  client: (baseUrl) => new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl } }),
  createPartFromUri,
  ApiError,
  apiVersion: "v1",
  uploadPath: "/upload/v1/files",
});
