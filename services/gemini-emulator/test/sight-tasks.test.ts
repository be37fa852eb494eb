// Caption, classify, vqa, compare and custom on synthetic scenes end to end: the task's own
// request through the real SDK, the task's own parser, and the answers checked against the
// scenes' ground truth by the rules docs/emulator.md ("Sight") gives.
import { GoogleGenAI } from "@google/genai";
import type { PreparedImage } from "@tessera/imaging";
import type { CaptionResult, ClassifyResult, CompareResult, CustomResult, VqaResult } from "@tessera/tasks";
import { validateJson } from "@tessera/tasks";
import type { SceneObject, SceneTruth } from "@tessera/testing";
import { SCENE_COLORS, generateScene } from "@tessera/testing";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.ts";
import { startEmulator } from "../src/index.ts";
import type { Sent } from "../src/sight/test-support/send-task.ts";
import { prepare, sendTask } from "../src/sight/test-support/send-task.ts";

let emulator: Emulator;
let ai: GoogleGenAI;
/** 800x600 JPEG, sent at standard detail (800x600), four shapes. */
let jpeg: { sent: PreparedImage; truth: SceneTruth };
/** 500x400 WebP sent at low detail (384x307), three shapes. */
let webp: { sent: PreparedImage; truth: SceneTruth };

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ai = new GoogleGenAI({ apiKey: "sight-tasks", httpOptions: { baseUrl: emulator.url } });
  const a = await generateScene({ width: 800, height: 600, seed: 31, shapes: 4, format: "jpeg" });
  const b = await generateScene({ width: 500, height: 400, seed: 32, shapes: 3, format: "webp" });
  jpeg = { sent: await prepare(a.bytes), truth: a.truth };
  webp = { sent: await prepare(b.bytes, "low"), truth: b.truth };
});

afterAll(async () => {
  await emulator.close();
});

/** Each image's result; JSON answers must also validate against the schema that was sent. */
function results<R>(sent: Sent): R[] {
  const schema = sent.request.generationConfig.responseJsonSchema;
  if (schema !== undefined) expect(validateJson(schema, JSON.parse(sent.text))).toEqual([]);
  return sent.outcome.perImage.map((image) => {
    if (!image.ok) throw new Error(`${image.code}: ${image.error}`);
    expect(image.warnings).toEqual([]);
    return image.result as R;
  });
}

const area = (o: SceneObject): number => o.mask.data.reduce((sum, v) => sum + v, 0);
const byArea = (truth: SceneTruth): SceneObject[] => [...truth.objects].sort((a, b) => area(b) - area(a));
const phrase = (label: string): string => `${/^[aeiou]/.test(label) ? "an" : "a"} ${label}`;

/** "a red circle, a blue square and ..." in some order: the set of phrases in a caption. */
function captionedShapes(caption: string): string[] {
  const listed = /^A \d+x\d+ image of (.+) on a \w+ background\.$/.exec(caption)?.[1] ?? "";
  return listed.split(/, | and /).sort();
}

describe("sight: caption", () => {
  it("one image: its size as sent, and every shape by colour and kind", async () => {
    const [result] = results<CaptionResult>(await sendTask(ai, "caption", {}, [jpeg.sent]));
    expect(result!.caption).toMatch(/^A 800x600 image of .* on a white background\.$/);
    expect(captionedShapes(result!.caption)).toEqual(jpeg.truth.objects.map((o) => phrase(o.label)).sort());
  });

  it("several images: one caption per image key, colour captions for images without shapes", async () => {
    const green = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#10a040" } })
      .png()
      .toBuffer();
    const sent = await sendTask(ai, "caption", { length: "medium" }, [
      webp.sent,
      jpeg.sent,
      await prepare(green),
    ]);
    const [first, second, third] = results<CaptionResult>(sent);
    expect(Object.keys(JSON.parse(sent.text) as object)).toEqual(["img_1", "img_2", "img_3"]);
    expect(first!.caption).toMatch(/^A 384x307 image of /);
    for (const object of webp.truth.objects)
      expect(first!.caption.toLowerCase()).toContain(`the ${object.label}`);
    expect(second!.caption).toMatch(/^A 800x600 image of /);
    expect(third!.caption).toBe("A 64x48 image, mostly green (#10a040).");
  });
});

describe("sight: classify", () => {
  it("one label: the one naming the largest shape's kind", async () => {
    const [largest, next] = byArea(jpeg.truth);
    expect(area(largest!)).toBeGreaterThan(area(next!) * 1.1);
    const labels = ["circle", "square", "triangle", "diamond", "other"];
    const [result] = results<ClassifyResult>(await sendTask(ai, "classify", { labels }, [jpeg.sent]));
    expect(result!.labels).toEqual([largest!.shape]);
  });

  it("several labels over several images: every colour present, in the labels' order", async () => {
    const labels = [...SCENE_COLORS.map((c) => c.name), "other"];
    const sent = await sendTask(ai, "classify", { labels, multiLabel: true }, [jpeg.sent, webp.sent]);
    const expected = (truth: SceneTruth) => labels.filter((l) => truth.objects.some((o) => o.color === l));
    expect(results<ClassifyResult>(sent).map((r) => r.labels)).toEqual([
      expected(jpeg.truth),
      expected(webp.truth),
    ]);
  });
});

describe("sight: vqa", () => {
  async function ask(question: string): Promise<string> {
    const [result] = results<VqaResult>(await sendTask(ai, "vqa", { question }, [jpeg.sent]));
    return result!.answer;
  }

  it("counts, names colours and shapes, and checks presence against the truth", async () => {
    const objects = jpeg.truth.objects;
    expect(await ask("How many shapes are there?")).toBe(`${objects.length}.`);
    const lone = objects.find((o) => objects.filter((p) => p.shape === o.shape).length === 1)!;
    expect(await ask(`What colour is the ${lone.shape}?`)).toBe(
      `${lone.color.replace(/^./, (c) => c.toUpperCase())}.`,
    );
    expect(await ask(`What shape is the ${lone.color} object?`)).toBe(
      `${phrase(lone.shape).replace(/^a/, "A")}.`,
    );
    expect(await ask(`Is there ${phrase(lone.label)}?`)).toBe("Yes.");
    const absent = SCENE_COLORS.find((c) => !objects.some((o) => o.color === c.name))!.name;
    expect(await ask(`Is there a ${absent} shape in the image?`)).toBe("No.");
    expect(await ask(`How many ${lone.shape}s are there?`)).toBe("1.");
  });

  it("says so when the image does not show the answer", async () => {
    expect(await ask("How many people are in the photo?")).toMatch(
      /^The image does not show the answer\. A 800x600 image of /,
    );
  });
});

describe("sight: compare", () => {
  it("names the shape that appears in the second image", async () => {
    const a = await generateScene({ width: 640, height: 480, seed: 5, shapes: 3, format: "png" });
    const b = await generateScene({ width: 640, height: 480, seed: 5, shapes: 4, format: "jpeg" });
    // Same seed: the first three shapes are the same, the fourth is new.
    expect(b.truth.objects.slice(0, 3)).toEqual(a.truth.objects);
    const added = b.truth.objects[3]!;
    const sent = await sendTask(ai, "compare", {}, [await prepare(a.bytes), await prepare(b.bytes, "low")]);
    const [result] = results<CompareResult>(sent);
    expect(result!.differences).toHaveLength(1);
    expect(result!.differences[0]!.images).toEqual(["image-2"]);
    expect(result!.differences[0]!.description).toMatch(new RegExp(`^${phrase(added.label)} appears `, "i"));
    expect(result!.summary).toContain(added.label);
  });

  it("finds no difference between one scene sent twice in different formats", async () => {
    const png = await generateScene({ width: 400, height: 300, seed: 6, shapes: 3, format: "png" });
    const webpCopy = await generateScene({ width: 400, height: 300, seed: 6, shapes: 3, format: "webp" });
    const sent = await sendTask(ai, "compare", {}, [await prepare(png.bytes), await prepare(webpCopy.bytes)]);
    expect(results<CompareResult>(sent)[0]!.differences).toEqual([]);
  });
});

describe("sight: custom", () => {
  it("fills the user's schema with a valid value", async () => {
    const schema = {
      type: "object",
      properties: { count: { type: "integer" }, colours: { type: "array", items: { type: "string" } } },
      required: ["count", "colours"],
    };
    const [result] = results<CustomResult>(
      await sendTask(ai, "custom", { prompt: "Count the shapes.", schema }, [jpeg.sent]),
    );
    expect(result).toMatchObject({
      json: { count: expect.any(Number) as number, colours: expect.any(Array) as string[] },
    });
  });
});
