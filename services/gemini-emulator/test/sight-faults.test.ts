// The odd shapes real models answer in, applied by the emulator's faults on top of sight's
// answers: Tessera's parsers must see each oddity and still read the same shapes.
import { GoogleGenAI } from "@google/genai";
import type { PreparedImage } from "@tessera/imaging";
import type { CaptionResult, DetectResult, SegmentResult, WarningCode } from "@tessera/tasks";
import { generateScene } from "@tessera/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../src/index.ts";
import { FAULT_HEADER, startEmulator } from "../src/index.ts";
import type { Sent } from "../src/sight/test-support/send-task.ts";
import { prepare, sendTask } from "../src/sight/test-support/send-task.ts";

let emulator: Emulator;
let ai: GoogleGenAI;
let scene: PreparedImage;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ai = new GoogleGenAI({ apiKey: "sight-faults", httpOptions: { baseUrl: emulator.url } });
  scene = await prepare(
    (await generateScene({ width: 480, height: 360, seed: 9, shapes: 3, format: "jpeg" })).bytes,
    "low",
  );
});

afterAll(async () => {
  await emulator.close();
});

function result<R>(sent: Sent): { result: R; codes: WarningCode[]; partial: boolean } {
  const image = sent.outcome.perImage[0]!;
  if (!image.ok) throw new Error(`${image.code}: ${image.error}`);
  return {
    result: image.result as R,
    codes: Object.keys(image.counters) as WarningCode[],
    partial: image.partial,
  };
}

const faulty = (faults: string) => ({ [FAULT_HEADER]: faults });

describe("sight's answers under the odd-shape faults", () => {
  it("fence, prose, reversed-boxes, duplicates and wrapped-boxes: the same objects, each oddity warned", async () => {
    const plain = result<DetectResult>(await sendTask(ai, "detect", {}, [scene]));
    expect(plain.result.objects).toHaveLength(3);
    const odd = result<DetectResult>(
      await sendTask(
        ai,
        "detect",
        {},
        [scene],
        faulty("fence,prose,reversed-boxes,duplicates,wrapped-boxes"),
      ),
    );
    expect(odd.result).toEqual(plain.result);
    expect(odd.codes.sort()).toEqual(
      ["duplicate_box", "fenced_json", "prose_around_json", "reversed_corners", "wrapped_list"].sort(),
    );
  });

  it("over-1000: every box clamped to the image's far corner", async () => {
    const odd = result<DetectResult>(await sendTask(ai, "detect", {}, [scene], faulty("over-1000")));
    expect(odd.codes).toEqual(["clamped_coordinates"]);
    const { width, height } = scene.transform.original;
    for (const object of odd.result.objects) expect(object.box.slice(2)).toEqual([width, height]);
  });

  it("seg-masks: codebook tokens instead of PNGs leave every mask null, boxes kept", async () => {
    const odd = result<SegmentResult>(await sendTask(ai, "segment", {}, [scene], faulty("seg-masks")));
    expect(odd.codes).toEqual(["mask_not_png"]);
    expect(odd.result.objects).toHaveLength(3);
    expect(odd.result.objects.every((o) => o.mask === null)).toBe(true);
  });

  it("truncate: a cut-off segmentation answer keeps the items that were complete", async () => {
    const full = result<SegmentResult>(await sendTask(ai, "segment", {}, [scene]));
    const cut = await sendTask(ai, "segment", {}, [scene], faulty("truncate"));
    expect(cut.finishReason).toBe("MAX_TOKENS");
    const odd = result<SegmentResult>(cut);
    expect(odd.partial).toBe(true);
    expect(odd.codes).toContain("truncated");
    expect(odd.result.objects.length).toBeLessThan(full.result.objects.length);
    expect(odd.result.objects).toEqual(full.result.objects.slice(0, odd.result.objects.length));
  });

  it("fence around a plain-text caption", async () => {
    const plain = result<CaptionResult>(await sendTask(ai, "caption", {}, [scene]));
    const odd = result<CaptionResult>(await sendTask(ai, "caption", {}, [scene], faulty("fence")));
    expect(odd.codes).toEqual(["fenced_json"]);
    expect(odd.result).toEqual(plain.result);
    expect(plain.result.caption).toMatch(/^A 384x288 image of /);
  });
});
