// SDK 2.x (installed as the alias genai2): it calls /v1beta and pins uploads to /upload/v1beta.
// Everything beyond the model calls is the shared files-and-batches contract.
import type { GoogleGenAI as GoogleGenAI3 } from "@google/genai";
import { imageTokens } from "@tessera/imaging";
import { ApiError, GoogleGenAI, createPartFromBase64, createPartFromUri } from "genai2";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, EmulatorRequestEvent } from "../src/index.ts";
import { startEmulator, textTokens } from "../src/index.ts";
import { describeFilesAndBatchesContract } from "./files-and-batches-sdk.ts";

const MODEL = "gemini-2.5-flash";
const PROMPT = "Describe this image.";

describe("generateContent and countTokens through SDK 2.x", () => {
  let emulator: Emulator;
  let ai: GoogleGenAI;
  let png: string;
  const events: EmulatorRequestEvent[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ onRequest: (event) => events.push(event) });
    ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: emulator.url } });
    png = (
      await sharp({ create: { width: 640, height: 480, channels: 3, background: "#d01010" } })
        .png()
        .toBuffer()
    ).toString("base64");
  });

  afterAll(async () => {
    await emulator.close();
  });

  it("captions an inline image on /v1beta, sending 2.x's client header", async () => {
    const response = await ai.models.generateContent({
      model: MODEL,
      contents: [createPartFromBase64(png, "image/png"), PROMPT],
    });
    expect(response.text).toBe("A 640x480 image, mostly red (#d01010).");
    expect(events.at(-1)).toMatchObject({ path: `/v1beta/models/${MODEL}:generateContent`, status: 200 });
    expect(events.at(-1)?.headers["x-goog-api-client"]).toMatch(/^google-genai-sdk\/2\./);
    const counted = await ai.models.countTokens({
      model: MODEL,
      contents: [createPartFromBase64(png, "image/png"), PROMPT],
    });
    expect(counted.totalTokens).toBe(
      imageTokens({ width: 640, height: 480 }, MODEL).tokens + textTokens(PROMPT),
    );
  });

  it("surfaces the emulator's errors as 2.x ApiErrors", async () => {
    const error = await ai.models.generateContent({ model: "gemini-0.9", contents: PROMPT }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
  });
});

describeFilesAndBatchesContract({
  label: "SDK 2.x",
  // Same method names and shapes for everything the contract calls; the run checks them for real.
  client: (baseUrl) =>
    new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl } }) as unknown as GoogleGenAI3,
  createPartFromUri,
  ApiError,
  apiVersion: "v1beta",
  uploadPath: "/upload/v1beta/files",
});
