// Phones write HEVC-coded HEIC, which sharp's prebuilt libvips cannot decode but Gemini can. The
// emulator must see it too: a real HEIC scene made with Debian's heif-enc, sent as it is (nothing
// to rotate or resize), detected through the real SDK and the detect task's parser.
import { GoogleGenAI } from "@google/genai";
import type { DetectResult } from "@tessera/tasks";
import { generateScene, heicEncoderAvailable } from "@tessera/testing";
import { sniffImage } from "@tessera/imaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../src/index.ts";
import { prepare, sendTask } from "../src/sight/test-support/send-task.ts";

const available = heicEncoderAvailable();
if (!available)
  console.info(
    "HEIC sight test skipped: heif-enc with x265 not installed (apt-get install libheif-examples)",
  );

let emulator: Emulator;
let ai: GoogleGenAI;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ai = new GoogleGenAI({ apiKey: "sight-heic", httpOptions: { baseUrl: emulator.url } });
});
afterAll(async () => {
  await emulator.close();
});

describe.skipIf(!available)("sight: HEVC HEIC", () => {
  it("detects the shapes of an HEVC-coded HEIC within 1 % of the image size", async () => {
    const scene = await generateScene({ width: 640, height: 480, seed: 41, shapes: 3, format: "heic" });
    expect(sniffImage(scene.bytes)?.format).toBe("heic");
    const sent = await prepare(scene.bytes);
    expect(sent.reencoded).toBe(false); // the HEIC itself goes out
    const result = await sendTask(ai, "detect", {}, [sent]);
    const outcome = result.outcome.perImage[0];
    if (!outcome?.ok) throw new Error(outcome ? outcome.error : "no outcome");
    const detected = (outcome.result as DetectResult).objects;
    expect(detected).toHaveLength(scene.truth.objects.length);
    const tolerance = 0.01 * 640;
    for (const object of scene.truth.objects) {
      const found = detected.find((d) => d.label === object.label);
      expect(found, object.label).toBeDefined();
      for (let i = 0; i < 4; i++)
        expect(Math.abs(found!.box[i]! - object.box[i]!)).toBeLessThanOrEqual(tolerance);
    }
  });
});
