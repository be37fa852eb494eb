import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PRICES } from "@tessera/config";
import { createLogger, manifestLineSchema, type ManifestLine } from "@tessera/core";
import { createGeminiClient } from "@tessera/gemini";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { Producer, RunStore, type RunState } from "@tessera/queue";
import { s3Client, storageCache } from "@tessera/storage";
import {
  clearBucketPolicy,
  COLORS,
  denyOnBucket,
  makeScene,
  useTestBucket,
  useTestPrefix,
  type TestBucket,
} from "@tessera/testing";
import { cacheFiles, runFiles, startWorker } from "@tessera/worker";
import { startRun } from "../src/index.ts";

// A corpus of hostile objects, generated here: each must end with a clear per-image outcome and
// none may stop the run or crash a worker.

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;

beforeAll(async () => {
  redisEnv = await useTestPrefix("hostile");
  bucket = await useTestBucket();
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator?.close();
  await bucket?.cleanup();
  await redisEnv?.cleanup();
});

function bombPng(width: number, height: number): Buffer {
  // A valid signature and IHDR declaring a huge canvas, then nothing: tiny file, enormous image.
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunk = Buffer.concat([Buffer.from([0, 0, 0, 13]), Buffer.from("IHDR"), ihdr, Buffer.alloc(4)]);
  const iend = Buffer.concat([Buffer.alloc(4), Buffer.from("IEND"), Buffer.alloc(4)]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk, iend]);
}

describe("hostile inputs", () => {
  it("gives every object a clear outcome and finishes the run", async () => {
    const scene = (format: "png" | "jpeg" | "webp" = "png") =>
      makeScene({ width: 300, height: 200, background: COLORS.blue, format });
    const jpeg = await scene("jpeg");
    const png = await scene("png");
    const webp = await scene("webp");
    const corpus: Record<string, { bytes: Buffer; contentType?: string }> = {
      "zero-bytes.png": { bytes: Buffer.alloc(0) },
      "truncated.jpg": { bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)) },
      "truncated.png": { bytes: png.subarray(0, 40) },
      "truncated.webp": { bytes: webp.subarray(0, 20) },
      "png-named.jpg": { bytes: png },
      "declared-png-is-jpeg": { bytes: jpeg, contentType: "image/png" },
      "bomb.png": { bytes: bombPng(100_000, 100_000) },
      "one-pixel.png": {
        bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: "red" } })
          .png()
          .toBuffer(),
      },
      "strip-30000x1.png": {
        bytes: await sharp({ create: { width: 30_000, height: 1, channels: 3, background: "red" } })
          .png()
          .toBuffer(),
      },
      "cmyk.jpg": {
        bytes: await sharp({ create: { width: 64, height: 64, channels: 3, background: "green" } })
          .toColourspace("cmyk")
          .jpeg()
          .toBuffer(),
      },
      "sixteen-bit.png": {
        bytes: await sharp({ create: { width: 64, height: 64, channels: 3, background: "yellow" } })
          .toColourspace("rgb16")
          .png()
          .toBuffer(),
      },
      "giant-exif.jpg": {
        bytes: await sharp(jpeg)
          .withExif({ IFD0: { ImageDescription: "x".repeat(60_000) } })
          .jpeg()
          .toBuffer(),
      },
      "with space and ünïcödé/ファイル.png": { bytes: png },
      "dots/../escape.png": { bytes: png },
      [`long/${"k".repeat(900)}.png`]: { bytes: png },
      "deleted-after-listing.png": { bytes: png },
      "access-denied.png": { bytes: png },
      "notes.txt": { bytes: Buffer.from("not an image") },
    };
    const client = s3Client(bucket.config);
    for (const [key, item] of Object.entries(corpus)) {
      // The raw client: the storage layer refuses to write keys like "a/../b", real buckets have them.
      await client.send(
        new PutObjectCommand({
          Bucket: bucket.bucket,
          Key: `hostile/${key}`,
          Body: item.bytes,
          ContentType: item.contentType ?? "application/octet-stream",
        }),
      );
    }
    await client.send(
      new PutObjectCommand({ Bucket: bucket.bucket, Key: "hostile//leading-slash.png", Body: png }),
    );

    // Readable to nobody, the bucket's owner included.
    await denyOnBucket(bucket, ["s3:GetObject"], "hostile/access-denied.png");

    const runs = new RunStore(redisEnv.redis, redisEnv.prefix);
    const producer = new Producer(redisEnv.redis, redisEnv.prefix, {
      annotate: { attempts: 2, backoff: { type: "fixed", delay: 20 } },
    });
    const storage = storageCache(bucket.config);
    const log = createLogger("silent");
    const source = `s3://${bucket.bucket}/hostile`;
    const out = `s3://${bucket.bucket}/hostile-out`;
    const { runId } = await startRun(
      { runs, producer, storage, log, now: () => new Date() },
      {
        source,
        out,
        task: "caption",
        model: "gemini-2.5-flash",
        maxOutputTokens: 256,
        detail: "standard",
        convert: "convert",
        prices: DEFAULT_PRICES,
      },
    );
    // Gone between listing and fetching.
    await client.send(
      new DeleteObjectCommand({ Bucket: bucket.bucket, Key: "hostile/deleted-after-listing.png" }),
    );

    const worker = await startWorker(
      {
        runs,
        producer,
        gemini: createGeminiClient({ apiKey: "k", baseUrl: emulator.url, timeoutMs: 20_000 }),
        storage,
        log,
        maxImageBytes: 15 * 1024 * 1024,
        maxSourceBytes: 64 * 1024 * 1024,
        prices: DEFAULT_PRICES,
        now: () => new Date(),
      },
      { connection: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 4 },
    );
    let run: RunState;
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        run = await runs.require(runId);
        if (run.status === "completed") break;
        if (Date.now() > deadline) throw new Error(`run still ${run.status}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.close();
      await producer.close();
    }
    const lines: ManifestLine[] = (await storage(out).get(runFiles.manifest(runId)))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => manifestLineSchema.parse(JSON.parse(l)));
    const byKey = new Map(lines.map((l) => [l.key, l]));
    const outcome = (key: string) => {
      const line = byKey.get(key);
      return line
        ? `${line.status}${line.error ? ` ${line.error.class}: ${line.error.message}` : ""}`
        : "missing";
    };
    console.info(lines.map((l) => `${l.key.slice(0, 40)} -> ${outcome(l.key).slice(0, 120)}`).join("\n"));

    expect(lines).toHaveLength(Object.keys(corpus).length + 1);
    expect(outcome("zero-bytes.png")).toBe("failed bad_image: empty object (0 bytes)");
    expect(outcome("truncated.jpg")).toMatch(/^failed bad_image: .*jpeg/i);
    expect(outcome("truncated.png")).toMatch(/^failed bad_image: .*png/i);
    expect(outcome("truncated.webp")).toMatch(/^failed bad_image: .*webp/i);
    expect(outcome("png-named.jpg")).toBe("done");
    expect(outcome("declared-png-is-jpeg")).toBe("done");
    expect(outcome("bomb.png")).toMatch(/^failed bad_image: decompression bomb/);
    expect(outcome("one-pixel.png")).toBe("done");
    expect(outcome("strip-30000x1.png")).toMatch(/^(done|failed permanent: Gemini 400)/);
    expect(outcome("cmyk.jpg")).toBe("done");
    expect(outcome("sixteen-bit.png")).toBe("done");
    expect(outcome("giant-exif.jpg")).toBe("done");
    expect(outcome("with space and ünïcödé/ファイル.png")).toBe("done");
    expect(outcome(`long/${"k".repeat(900)}.png`)).toBe("done");
    expect(outcome("dots/../escape.png")).toMatch(
      /^failed permanent: could not read the object's header: invalid key/,
    );
    expect(outcome("/leading-slash.png")).toMatch(/^failed permanent: .*invalid key/);
    expect(outcome("deleted-after-listing.png")).toBe(
      "failed source_changed: the object was deleted since the run listed it",
    );
    expect(outcome("notes.txt")).toMatch(/^skipped not_an_image/);
    expect(outcome("access-denied.png")).toMatch(
      /^failed permanent: could not read the object's header: .*access-denied\.png: access denied/,
    );
    await clearBucketPolicy(bucket);

    // Nothing was written outside the run's own folder and the annotation cache (whose keys are
    // hashes), whatever the source keys held.
    const written: string[] = [];
    for await (const o of storage(out).list()) written.push(o.key);
    const cacheKey = new RegExp(
      `^${cacheFiles.folder.replace(/\./g, "\\.")}[0-9a-f]{64}/[0-9a-f]{2}/[0-9a-f]{64}\\.json$`,
    );
    expect(written.filter((k) => !k.startsWith(`${runId}/`) && !cacheKey.test(k))).toEqual([]);
    expect(written.filter((k) => cacheKey.test(k))).toHaveLength(run!.done);
    expect(run!.done + run!.failed).toBe(Object.keys(corpus).length); // every image settled; notes.txt skipped
  });
});
