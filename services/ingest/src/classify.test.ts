import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStorage, type ObjectInfo, type Storage } from "@tessera/storage";
import { classifyObject } from "./classify.ts";
import { annotateJobId } from "./scan.ts";

let dir: string;
let storage: Storage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-classify-"));
  await writeFile(
    join(dir, "photo.txt"),
    await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .jpeg()
      .toBuffer(),
  );
  await writeFile(join(dir, "doc.jpg"), "%PDF-1.7 not really an image");
  await writeFile(
    join(dir, "anim.webp.gif"),
    await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .gif()
      .toBuffer(),
  );
  await writeFile(join(dir, "empty.png"), "");
  await writeFile(join(dir, ".keep"), "");
  storage = openStorage(pathToFileURL(dir).href, { region: "us-east-1", forcePathStyle: false });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function classify(key: string, convert: "convert" | "skip" = "skip") {
  const info = (await storage.head(key)) as ObjectInfo;
  return classifyObject(storage, info, convert);
}

describe("classifyObject", () => {
  it("goes by the bytes, not the extension", async () => {
    expect(await classify("photo.txt")).toMatchObject({
      kind: "image",
      probe: { mime: "image/jpeg", width: 4, height: 4 },
    });
    expect(await classify("doc.jpg")).toMatchObject({
      kind: "skipped",
      reason: 'not an image: starts with "%PDF-1.7"',
    });
  });

  it("skips formats Gemini does not take, and empty objects, with the reason", async () => {
    expect(await classify("anim.webp.gif")).toMatchObject({
      kind: "skipped",
      reason: "unsupported image format image/gif (policy: skip)",
    });
    expect(await classify("anim.webp.gif", "convert")).toMatchObject({
      kind: "image",
      probe: { format: "gif" },
    });
    expect(await classify(".keep")).toMatchObject({ kind: "skipped", reason: "empty object (0 bytes)" });
  });

  it("fails an image whose header lies or is cut short, naming the problem", async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    await writeFile(join(dir, "cut.png"), png.subarray(0, 20));
    const result = await classify("cut.png");
    expect(result.kind).toBe("broken");
    expect(result.kind === "broken" ? result.reason : "").toMatch(/png/i);
  });

  it("reports an empty object named like an image as a broken image", async () => {
    expect(await classify("empty.png")).toMatchObject({ kind: "broken", reason: "empty object (0 bytes)" });
  });
});

describe("annotateJobId", () => {
  it("is stable per run and key, and free of BullMQ's separator", () => {
    expect(annotateJobId("r1", "a/b.jpg")).toBe(annotateJobId("r1", "a/b.jpg"));
    expect(annotateJobId("r1", "a/b.jpg")).not.toBe(annotateJobId("r2", "a/b.jpg"));
    expect(annotateJobId("r1", "x:y")).not.toContain(":");
  });
});
