import { GoogleGenAI } from "@google/genai";
import type { Emulator } from "@tessera/gemini-emulator";
import { startEmulator } from "@tessera/gemini-emulator";
import type { TestBucket } from "@tessera/testing";
import { useTestBucket, useTestPrefix } from "@tessera/testing";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageTransport } from "../src/index.ts";
import { FilesCache, generate, imagePart } from "../src/index.ts";

// 640x480 under the 2.x tile rule: crop unit 320, 2 x 2 tiles of 258 tokens.
const TOKENS_640x480 = 1032;
const CAPTION = "A 640x480 image, mostly red (#d01010).";

let testPrefix: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let ai: GoogleGenAI;
let files: FilesCache;
let photo: Buffer;

beforeAll(async () => {
  [testPrefix, bucket, emulator] = await Promise.all([
    useTestPrefix("files-transport"),
    useTestBucket(),
    startEmulator({ port: 0 }),
  ]);
  ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: emulator.url } });
  files = new FilesCache({
    redis: testPrefix.redis,
    prefix: testPrefix.prefix,
    client: ai,
    clock: emulator.clock,
  });
  photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#d01010" } })
    .png()
    .toBuffer();
});

afterAll(async () => {
  await emulator?.close();
  await bucket?.cleanup();
  await testPrefix?.cleanup();
});

describe("image transports against the emulator", () => {
  it.each<ImageTransport>(["inline", "files", "url"])(
    "%s: generateContent answers 200 with the image's tokens",
    async (transport) => {
      const storage = bucket.storage("photos");
      await storage.put("trip/red.png", photo, { contentType: "image/png" });
      const presignedUrl = await storage.presignGet("trip/red.png", 300);
      const part = await imagePart({
        transport,
        bytes: photo,
        mimeType: "image/png",
        runId: "run-1",
        presignedUrl,
        files,
      });
      const where = { inline: undefined, files: emulator.url, url: bucket.config.endpoint };
      if ("fileData" in part) expect(part.fileData.fileUri.startsWith(`${where[transport]}/`)).toBe(true);
      else expect(transport).toBe("inline");

      const before = emulator.snapshot().byRouteAndStatus.generateContent[200] ?? 0;
      const answer = await generate(ai, {
        model: "gemini-2.5-flash",
        prompt: "Describe this image.",
        images: [part],
      });
      expect(emulator.snapshot().byRouteAndStatus.generateContent[200]).toBe(before + 1);
      expect(answer.text).toBe(CAPTION);
      expect(answer.usage.imageTokens).toBe(TOKENS_640x480);
    },
  );

  it("signs a URL that fetches the object's bytes and nothing without the signature", async () => {
    const storage = bucket.storage("photos");
    await storage.put("private.png", photo, { contentType: "image/png" });
    const url = await storage.presignGet("private.png", 60);
    expect(url).toBeDefined();
    const signed = await fetch(url ?? "");
    expect(signed.status).toBe(200);
    expect(Buffer.from(await signed.arrayBuffer()).equals(photo)).toBe(true);
    const bare = new URL(url ?? "");
    bare.search = "";
    expect((await fetch(bare)).status).toBe(403);
  });
});
