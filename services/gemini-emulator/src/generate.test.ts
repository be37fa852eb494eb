import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { imageTokens, tokenRuleForModel } from "@tessera/imaging";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { EmulatorApiError } from "./errors.ts";
import { countTokens, generateContent } from "./generate.ts";
import { parseGenerateContentRequest } from "./request.ts";
import { textTokens } from "./usage.ts";

const FLASH = { model: "gemini-2.5-flash", rule: tokenRuleForModel("gemini-2.5-flash") };
const HEIC = fileURLToPath(new URL("../../../../shared/fixtures/heif/example.heic", import.meta.url));

let redBlue: Buffer;

/** 640x480: red with a blue band on the right quarter and a bit, like a flag. */
async function redBluePng(): Promise<Buffer> {
  const band = await sharp({ create: { width: 200, height: 480, channels: 3, background: "#1030c0" } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: "#d01010" } })
    .composite([{ input: band, left: 440, top: 0 }])
    .png()
    .toBuffer();
}

function request(images: [string, Buffer][], generationConfig?: unknown, model = FLASH.model) {
  const parts = [
    ...images.map(([mimeType, bytes]) => ({ inlineData: { mimeType, data: bytes.toString("base64") } })),
    { text: "Describe the image." },
  ];
  return parseGenerateContentRequest(
    { contents: [{ role: "user", parts }], generationConfig },
    { model, maxImages: 3600 },
  );
}

async function answerText(images: [string, Buffer][], generationConfig?: unknown): Promise<string> {
  const { response } = await generateContent(request(images, generationConfig), FLASH);
  return response.candidates[0]!.content.parts.at(-1)!.text;
}

beforeAll(async () => {
  redBlue = await redBluePng();
});

describe("generateContent", () => {
  it("captions the image with its size and main colours, the same way every time", async () => {
    const first = await generateContent(request([["image/png", redBlue]]), FLASH);
    const second = await generateContent(request([["image/png", redBlue]]), FLASH);
    const [candidate] = first.response.candidates;
    expect(candidate).toEqual({
      content: {
        role: "model",
        parts: [{ text: "A 640x480 image, mostly red (#d01010), with blue (#1030c0)." }],
      },
      finishReason: "STOP",
      index: 0,
    });
    expect(second.response.candidates).toEqual(first.response.candidates);
    expect(second.response.responseId).not.toBe(first.response.responseId);
    expect(first.response.modelVersion).toBe("gemini-2.5-flash");
  });

  it("bills image tokens by the documented rule and text by the estimate", async () => {
    const { response, billing } = await generateContent(request([["image/png", redBlue]]), FLASH);
    const image = imageTokens({ width: 640, height: 480 }, "gemini-2.5-flash").tokens;
    const text = textTokens("Describe the image.");
    const output = textTokens(response.candidates[0]!.content.parts[0]!.text);
    expect(response.usageMetadata).toEqual({
      promptTokenCount: image + text,
      candidatesTokenCount: output,
      totalTokenCount: image + text + output,
      promptTokensDetails: [
        { modality: "TEXT", tokenCount: text },
        { modality: "IMAGE", tokenCount: image },
      ],
      candidatesTokensDetails: [{ modality: "TEXT", tokenCount: output }],
    });
    expect(billing).toEqual({ promptTokens: image + text, outputTokens: output });
  });

  it("writes one numbered sentence per image", async () => {
    const green = await sharp({ create: { width: 20, height: 10, channels: 3, background: "#00c000" } })
      .webp()
      .toBuffer();
    expect(
      await answerText([
        ["image/png", redBlue],
        ["image/webp", green],
      ]),
    ).toMatch(
      /^Image 1: A 640x480 image, mostly red \(#d01010\), with blue \(#1030c0\)\. Image 2: A 20x10 image, mostly green \(#0[0-9a-f]c[0-9a-f]0[0-9a-f]\)\.$/,
    );
  });

  it("reports the display size of an EXIF-rotated photo", async () => {
    const rotated = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#808080" } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await answerText([["image/jpeg", rotated]])).toMatch(/^A 480x640 image, mostly gray/);
  });

  it("describes greyscale, 16-bit and transparent images", async () => {
    const grey16 = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#404040" } })
      .toColourspace("grey16")
      .png()
      .toBuffer();
    expect(await sharp(grey16).metadata()).toMatchObject({ channels: 1, depth: "ushort" });
    expect(await answerText([["image/png", grey16]])).toBe("A 8x8 image, mostly gray (#404040).");
    const clear = await sharp({
      create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    expect(await answerText([["image/png", clear]])).toBe("A 8x8 image, fully transparent.");
  });

  it("answers JSON mode with a caption object, or fills the given schema", async () => {
    expect(
      JSON.parse(await answerText([["image/png", redBlue]], { responseMimeType: "application/json" })),
    ).toEqual({
      caption: "A 640x480 image, mostly red (#d01010), with blue (#1030c0).",
    });
    const schema = {
      type: "OBJECT",
      properties: { colour: { type: "STRING", enum: ["green", "red"] }, width: { type: "INTEGER" } },
    };
    const filled = await answerText([["image/png", redBlue]], {
      responseMimeType: "application/json",
      responseSchema: schema,
    });
    expect(JSON.parse(filled)).toEqual({ colour: "red", width: 640 });
  });

  it("answers text/x.enum with one of the enum values", async () => {
    const config = {
      responseMimeType: "text/x.enum",
      responseSchema: { type: "STRING", enum: ["green", "blue", "black"] },
    };
    expect(await answerText([["image/png", redBlue]], config)).toBe("blue");
  });

  it("cuts the answer at maxOutputTokens and says MAX_TOKENS", async () => {
    const { response } = await generateContent(
      request([["image/png", redBlue]], { maxOutputTokens: 3 }),
      FLASH,
    );
    const [candidate] = response.candidates;
    expect(candidate?.finishReason).toBe("MAX_TOKENS");
    expect(candidate?.content.parts[0]?.text).toBe("A 640x480 im");
    expect(response.usageMetadata.candidatesTokenCount).toBe(3);
  });

  it("adds a thought part and bills its tokens when thoughts are asked for", async () => {
    const { response, billing } = await generateContent(
      request([["image/png", redBlue]], { thinkingConfig: { includeThoughts: true } }),
      FLASH,
    );
    const [thought, answer] = response.candidates[0]!.content.parts;
    expect(thought?.thought).toBe(true);
    expect(answer?.thought).toBeUndefined();
    const thoughts = textTokens(thought!.text);
    expect(response.usageMetadata.thoughtsTokenCount).toBe(thoughts);
    expect(response.usageMetadata.totalTokenCount).toBe(
      response.usageMetadata.promptTokenCount + response.usageMetadata.candidatesTokenCount + thoughts,
    );
    expect(billing.outputTokens).toBe(response.usageMetadata.candidatesTokenCount + thoughts);
  });

  it("prices Gemini 3 images by media resolution, per part or for the whole request", async () => {
    const call = { model: "gemini-3-pro-preview", rule: tokenRuleForModel("gemini-3-pro-preview") };
    const parsed = request(
      [
        ["image/png", redBlue],
        ["image/png", redBlue],
      ],
      { mediaResolution: "MEDIA_RESOLUTION_LOW" },
      call.model,
    );
    parsed.images[1]!.mediaResolution = "ULTRA_HIGH";
    const { response } = await generateContent(parsed, call);
    expect(response.usageMetadata.promptTokensDetails).toContainEqual({
      modality: "IMAGE",
      tokenCount: 280 + 2240,
    });
  });

  it("rejects an image that passes the magic check but does not decode", async () => {
    const torn = redBlue.subarray(0, Math.floor(redBlue.length / 2));
    const error = await generateContent(request([["image/png", torn]]), FLASH).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(EmulatorApiError);
    expect((error as EmulatorApiError).code).toBe(400);
    expect((error as EmulatorApiError).message).toBe(
      "Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    );
  });

  it.skipIf(!existsSync(HEIC))(
    "decodes HEVC HEIC (which sharp cannot) with the WebAssembly libheif (needs ../shared/fixtures)",
    async () => {
      const text = await answerText([["image/heic", readFileSync(HEIC)]]);
      expect(text).toMatch(/^A 1280x854 image, mostly \w+ \(#[0-9a-f]{6}\)/);
    },
  );
});

describe("countTokens", () => {
  it("counts what generateContent bills for the prompt, without decoding pixels", async () => {
    const parsed = request([["image/png", redBlue]]);
    const counted = await countTokens(parsed, FLASH);
    const { response } = await generateContent(parsed, FLASH);
    expect(counted).toEqual({
      totalTokens: response.usageMetadata.promptTokenCount,
      promptTokensDetails: response.usageMetadata.promptTokensDetails,
    });
    const torn = redBlue.subarray(0, Math.floor(redBlue.length / 2));
    await expect(countTokens(request([["image/png", torn]]), FLASH)).resolves.toMatchObject({
      totalTokens: counted.totalTokens,
    });
  });
});
