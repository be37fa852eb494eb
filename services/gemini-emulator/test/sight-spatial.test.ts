// Detection and segmentation of synthetic scenes end to end: each scene is prepared as the worker
// prepares it (orientation applied, scaled for the detail level), asked for with the task's own
// request through the real SDK, and the answer parsed by the task's own parser. The parsed boxes
// and masks, in the original's display pixels, are checked against the scene's ground truth, so
// a resize or orientation mistake anywhere between the file and the result shows up here.
import { GoogleGenAI } from "@google/genai";
import type { Detail } from "@tessera/imaging";
import type { DetectResult, SegmentResult } from "@tessera/tasks";
import { decodeRle, validateJson } from "@tessera/tasks";
import type { SceneFormat, SceneObject, SceneTruth } from "@tessera/testing";
import { generateScene, objectCovers } from "@tessera/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.ts";
import { startEmulator } from "../src/index.ts";
import type { Sent } from "../src/sight/test-support/send-task.ts";
import { prepare, sendTask } from "../src/sight/test-support/send-task.ts";

let emulator: Emulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ai = new GoogleGenAI({ apiKey: "sight-test", httpOptions: { baseUrl: emulator.url } });
});

afterAll(async () => {
  await emulator.close();
});

interface Case {
  format: SceneFormat;
  orientation: number;
  detail: Detail;
  width: number;
  height: number;
}

const cases: Case[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8].flatMap((orientation) =>
    (["standard", "low"] as const).map((detail) => ({
      format: "jpeg" as const,
      orientation,
      detail,
      width: 800,
      height: 600,
    })),
  ),
  { format: "png", orientation: 1, detail: "original", width: 640, height: 480 },
  { format: "png", orientation: 1, detail: "standard", width: 1600, height: 1200 },
  { format: "webp", orientation: 1, detail: "standard", width: 500, height: 300 },
  { format: "webp", orientation: 6, detail: "low", width: 300, height: 500 },
  { format: "heif", orientation: 8, detail: "standard", width: 600, height: 400 },
];

/** The answer parsed, without a single warning: sight answers as a well-behaved model. */
function clean<R>(sent: Sent): R {
  const image = sent.outcome.perImage[0]!;
  if (!image.ok) throw new Error(`${image.code}: ${image.error}`);
  expect(image.warnings).toEqual([]);
  expect(validateJson(sent.request.generationConfig.responseJsonSchema!, JSON.parse(sent.text))).toEqual([]);
  return image.result as R;
}

function expectBox(truth: SceneTruth, object: SceneObject, box: readonly number[]): void {
  const tolerance = [truth.width, truth.height, truth.width, truth.height].map((side) => side * 0.01);
  box.forEach((v, k) =>
    expect(Math.abs(v - object.box[k]!), `${object.label} box[${k}]`).toBeLessThanOrEqual(tolerance[k]!),
  );
}

/** IoU of the object and a whole-image mask, counting only near the object (the rest is in `area`). */
function iou(truth: SceneTruth, object: SceneObject, mask: Uint8Array, area: number): number {
  const [x0, y0, x1, y1] = object.box;
  let both = 0;
  let truthArea = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (!objectCovers(object, x, y)) continue;
      truthArea++;
      if (mask[y * truth.width + x] === 1) both++;
    }
  }
  return both / (truthArea + area - both);
}

describe("sight: detect and segment against ground truth", () => {
  it.each(cases)(
    "$format, $width by $height, EXIF orientation $orientation, detail $detail",
    async ({ format, orientation, detail, width, height }) => {
      const { bytes, truth } = await generateScene({
        width,
        height,
        seed: 7 + orientation,
        format,
        orientation,
        shapes: 4,
      });
      const sent = await prepare(bytes, detail);
      const labels = truth.objects.map((o) => o.label).sort();

      const detected = clean<DetectResult>(await sendTask(ai, "detect", {}, [sent]));
      expect(detected.objects.map((o) => o.label).sort()).toEqual(labels);
      for (const object of truth.objects)
        expectBox(truth, object, detected.objects.find((o) => o.label === object.label)!.box);

      const segmented = clean<SegmentResult>(await sendTask(ai, "segment", {}, [sent]));
      expect(segmented.objects.map((o) => o.label).sort()).toEqual(labels);
      for (const object of truth.objects) {
        const found = segmented.objects.find((o) => o.label === object.label)!;
        expectBox(truth, object, found.box);
        expect(found.mask?.rle.size).toEqual([height, width]);
        expect(
          iou(truth, object, decodeRle(found.mask!.rle), found.mask!.area),
          `${object.label} IoU`,
        ).toBeGreaterThanOrEqual(0.9);
      }
    },
  );

  it("reports only what the labels name, under the most specific of them", async () => {
    const { bytes, truth } = await generateScene({ width: 640, height: 480, seed: 21, shapes: 8 });
    const sent = await prepare(bytes, "low");
    const labels = ["circle", "red shape", "dog"];
    const detected = clean<DetectResult>(await sendTask(ai, "detect", { labels }, [sent]));
    const expected = truth.objects.flatMap((o): [SceneObject, string][] =>
      o.shape === "circle" ? [[o, "circle"]] : o.color === "red" ? [[o, "red shape"]] : [],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(detected.objects).toHaveLength(expected.length);
    for (const [object, label] of expected) {
      const box = detected.objects.find(
        (o) => o.label === label && Math.abs(o.box[0] - object.box[0]) < 10,
      )?.box;
      expect(box, object.label).toBeDefined();
      expectBox(truth, object, box!);
    }
  });

  it("stops at maxItems, keeping the largest shapes", async () => {
    const { bytes, truth } = await generateScene({ width: 400, height: 300, seed: 4, shapes: 5 });
    const detected = clean<DetectResult>(
      await sendTask(ai, "detect", { maxItems: 2 }, [await prepare(bytes)]),
    );
    const largest = [...truth.objects]
      .sort((a, b) => b.mask.data.reduce((s, v) => s + v, 0) - a.mask.data.reduce((s, v) => s + v, 0))
      .slice(0, 2)
      .map((o) => o.label);
    expect(detected.objects.map((o) => o.label)).toEqual(largest);
  });
});
