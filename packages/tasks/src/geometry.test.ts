import { prepareImage, type Detail } from "@tessera/imaging";
import {
  generateScene,
  objectCovers,
  type GeneratedScene,
  type SceneFormat,
  type SceneTruth,
} from "@tessera/testing";
import { describe, expect, it } from "vitest";
import type { ParseContext } from "./contract.ts";
import { bind } from "./registry.ts";
import { detectTask } from "./tasks/detect.ts";
import { segmentTask } from "./tasks/segment.ts";
import { decodeRle } from "./rle.ts";
import { seeScene } from "./test-support/see-scene.ts";

// 800x600 display: "standard" (capped at 512 to keep the test quick) sends 512x384, "low" 384x288.
const WIDTH = 800;
const HEIGHT = 600;
const STANDARD_SIDE = 512;
const SENT: Record<Exclude<Detail, "original">, [number, number]> = { standard: [512, 384], low: [384, 288] };

interface Case {
  format: SceneFormat;
  orientation: number;
  detail: Detail;
}

const cases: Case[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8].flatMap((orientation) =>
    (["standard", "low"] as const).map((detail) => ({ format: "jpeg" as const, orientation, detail })),
  ),
  { format: "heif", orientation: 1, detail: "standard" },
  { format: "heif", orientation: 6, detail: "low" },
  { format: "png", orientation: 1, detail: "original" },
];

function iou(truth: SceneTruth, index: number, mask: Uint8Array): number {
  const object = truth.objects[index]!;
  let both = 0;
  let either = 0;
  for (let y = 0; y < truth.height; y++) {
    for (let x = 0; x < truth.width; x++) {
      const a = objectCovers(object, x, y);
      const b = mask[y * truth.width + x] === 1;
      if (a && b) both++;
      if (a || b) either++;
    }
  }
  return both / either;
}

// Both details of an orientation look at the same file.
const scenes = new Map<string, Promise<GeneratedScene>>();
function scene(format: SceneFormat, orientation: number): Promise<GeneratedScene> {
  const key = `${format}/${orientation}`;
  let made = scenes.get(key);
  if (made === undefined) {
    made = generateScene({
      width: WIDTH,
      height: HEIGHT,
      seed: 7 + orientation,
      format,
      orientation,
      shapes: 3,
    });
    scenes.set(key, made);
  }
  return made;
}

describe("geometry against synthetic ground truth", () => {
  it.each(cases)(
    "$format, EXIF orientation $orientation, detail $detail",
    async ({ format, orientation, detail }) => {
      const { bytes, truth } = await scene(format, orientation);
      const prepared = await prepareImage(bytes, { detail, maxSide: STANDARD_SIDE, convert: "convert" });
      expect([prepared.width, prepared.height]).toEqual(
        detail === "original" ? [WIDTH, HEIGHT] : SENT[detail],
      );
      const seen = await seeScene(prepared.bytes, truth.objects, truth.background);
      const context: ParseContext = { images: [{ label: "scene", transform: prepared.transform }] };

      const detected = (
        await bind(detectTask, {}, "gemini-2.5-flash").parse(
          { text: seen.detect, finishReason: "STOP" },
          context,
        )
      ).perImage[0]!;
      const segmented = (
        await bind(segmentTask, {}, "gemini-2.5-flash").parse(
          { text: seen.segment, finishReason: "STOP" },
          context,
        )
      ).perImage[0]!;
      if (!detected.ok || !segmented.ok) throw new Error("parse failed");
      expect(detected.warnings).toEqual([]);
      expect(segmented.warnings).toEqual([]);
      expect(detected.result.objects.map((o) => o.label)).toEqual(truth.objects.map((o) => o.label));

      truth.objects.forEach((object, i) => {
        const tolerance = [0.01 * WIDTH, 0.01 * HEIGHT, 0.01 * WIDTH, 0.01 * HEIGHT];
        for (const box of [detected.result.objects[i]!.box, segmented.result.objects[i]!.box]) {
          box.forEach((v, k) =>
            expect(Math.abs(v - object.box[k]!), `${object.label} box[${k}]`).toBeLessThanOrEqual(
              tolerance[k]!,
            ),
          );
        }
        const mask = segmented.result.objects[i]!.mask;
        expect(mask?.rle.size).toEqual([HEIGHT, WIDTH]);
        expect(iou(truth, i, decodeRle(mask!.rle)), `${object.label} mask IoU`).toBeGreaterThanOrEqual(0.9);
      });
    },
  );
});
