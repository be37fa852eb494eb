// The hook in generateContent: which requests sight answers, the mask knob, and the fallbacks.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { identityTransform, tokenRuleForModel } from "@tessera/imaging";
import { bindTask, decodeRle, type JsonSchema, type SegmentResult, type TaskRequest } from "@tessera/tasks";
import { generateScene, objectCovers } from "@tessera/testing";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createModelRunner } from "../batches/execute.ts";
import { manualClock } from "../files/clock.ts";
import { FileStore } from "../files/store.ts";
import { analyseImage } from "../image.ts";
import { resolveModels } from "../options.ts";
import type { ModelCall } from "../generate.ts";
import { composeAnswer, generateContent } from "../generate.ts";
import { parseGenerateContentRequest } from "../request.ts";

const MODEL = "gemini-2.5-flash";
const HEIC = fileURLToPath(new URL("../../../../../shared/fixtures/heif/example.heic", import.meta.url));

function parsed(request: Pick<TaskRequest, "parts" | "generationConfig">, images: [string, Buffer][]) {
  const parts = request.parts.map((part) =>
    part.kind === "text"
      ? { text: part.text }
      : { inlineData: { mimeType: images[part.index]![0], data: images[part.index]![1].toString("base64") } },
  );
  return parseGenerateContentRequest(
    { contents: [{ role: "user", parts }], generationConfig: request.generationConfig },
    { model: MODEL, maxImages: 3600 },
  );
}

async function answer(
  request: Pick<TaskRequest, "parts" | "generationConfig">,
  images: [string, Buffer][],
  sight?: ModelCall["sight"],
): Promise<string> {
  const call: ModelCall = { model: MODEL, rule: tokenRuleForModel(MODEL), ...(sight ? { sight } : {}) };
  const { response } = await generateContent(parsed(request, images), call);
  return response.candidates[0]!.content.parts.at(-1)!.text;
}

describe("sight in generateContent", () => {
  it("sends 256x256 masks whatever the box when asked, and the parser still recovers each shape", async () => {
    const { bytes, truth } = await generateScene({ width: 300, height: 200, seed: 3, shapes: 3 });
    const task = bindTask("segment", {}, MODEL);
    const text = await answer(task.build(1), [["image/png", bytes]], { maskSize: 256 });
    const items = JSON.parse(text) as { mask: string }[];
    for (const item of items) {
      const png = Buffer.from(item.mask.replace(/^data:image\/png;base64,/, ""), "base64");
      expect(await sharp(png).metadata()).toMatchObject({ width: 256, height: 256, channels: 1 });
    }
    const transform = identityTransform({ width: 300, height: 200 });
    const outcome = await task.parse({ text, finishReason: "STOP" }, { images: [{ label: "s", transform }] });
    const image = outcome.perImage[0]!;
    if (!image.ok) throw new Error(image.error);
    const { objects } = image.result as SegmentResult;
    expect(objects.map((o) => o.label).sort()).toEqual(truth.objects.map((o) => o.label).sort());
    for (const object of truth.objects) {
      const mask = decodeRle(objects.find((o) => o.label === object.label)!.mask!.rle);
      let [both, either] = [0, 0];
      for (let y = 0; y < 200; y++) {
        for (let x = 0; x < 300; x++) {
          const [a, b] = [objectCovers(object, x, y), mask[y * 300 + x] === 1];
          both += a && b ? 1 : 0;
          either += a || b ? 1 : 0;
        }
      }
      expect(both / either, object.label).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("leaves other requests to the colour answer", async () => {
    const { bytes } = await generateScene({ width: 120, height: 90, seed: 1, shapes: 2 });
    const custom = bindTask("custom", { prompt: "What is this?" }, MODEL).build(1);
    const analysis = await analyseImage({
      index: 0,
      field: "f",
      mimeType: "image/png",
      bytes,
      mediaResolution: undefined,
    });
    expect(await answer(custom, [["image/png", bytes]])).toBe(
      composeAnswer([analysis], "text/plain", undefined),
    );
  });

  it("falls back to the schema-filled answer when its own would not fit the schema", async () => {
    const { bytes } = await generateScene({ width: 120, height: 90, seed: 1, shapes: 2 });
    const request = bindTask("classify", { labels: ["red", "blue"] }, MODEL).build(1);
    const schema: JsonSchema = {
      type: "object",
      properties: { label: { type: "string", enum: ["red", "blue"] }, confidence: { type: "number" } },
      required: ["label", "confidence"],
    };
    const text = await answer(
      { ...request, generationConfig: { ...request.generationConfig, responseJsonSchema: schema } },
      [["image/png", bytes]],
    );
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(["confidence", "label"]);
  });

  it.runIf(existsSync(HEIC))("captions an HEVC photo (no shapes in it) by its colours", async () => {
    const request = bindTask("caption", {}, MODEL).build(1);
    expect(await answer(request, [["image/heic", readFileSync(HEIC)]])).toMatch(/^A 1280x854 image, mostly /);
  });
});

describe("sight in batch requests", () => {
  it("answers a batch's segment request with the mask size the emulator was given", async () => {
    const { bytes } = await generateScene({ width: 300, height: 200, seed: 4, shapes: 2 });
    const request = bindTask("segment", {}, MODEL).build(1);
    const parts = request.parts.map((part) =>
      part.kind === "text"
        ? { text: part.text }
        : { inlineData: { mimeType: "image/png", data: bytes.toString("base64") } },
    );
    const run = createModelRunner({
      models: resolveModels({}),
      files: new FileStore(manualClock()),
      urlFetch: undefined,
      sight: { maskSize: 64 },
    });
    const response = await run(
      "owner",
      MODEL,
      { contents: [{ role: "user", parts }], generationConfig: request.generationConfig },
      [],
    );
    const items = JSON.parse(response.candidates[0]!.content.parts.at(-1)!.text) as { mask: string }[];
    expect(items).toHaveLength(2);
    for (const item of items) {
      const png = Buffer.from(item.mask.replace(/^data:image\/png;base64,/, ""), "base64");
      expect(await sharp(png).metadata()).toMatchObject({ width: 64, height: 64 });
    }
  });
});
