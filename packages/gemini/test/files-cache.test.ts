import { ApiError, GoogleGenAI } from "@google/genai";
import { TesseraError } from "@tessera/core";
import type { Emulator, EmulatorOptions } from "@tessera/gemini-emulator";
import { startEmulator } from "@tessera/gemini-emulator";
import { TEST_REDIS_URL, useTestPrefix } from "@tessera/testing";
import { Redis } from "ioredis";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FilesCacheOptions } from "../src/index.ts";
import {
  FileUnavailableError,
  FilesCache,
  FilesQuotaError,
  contentHash,
  generate,
  imagePart,
} from "../src/index.ts";

const HOUR = 60 * 60 * 1000;
const MODEL = "gemini-2.5-flash";

let testPrefix: Awaited<ReturnType<typeof useTestPrefix>>;
let red: Buffer;
let green: Buffer;
let blue: Buffer;
let emulator: Emulator | undefined;
const extraRedis: Redis[] = [];
let testCount = 0;

beforeAll(async () => {
  testPrefix = await useTestPrefix("files-cache");
  const png = (background: string) =>
    sharp({ create: { width: 64, height: 48, channels: 3, background } })
      .png()
      .toBuffer();
  [red, green, blue] = await Promise.all([png("#d01010"), png("#10a040"), png("#1030c0")]);
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  await Promise.all(extraRedis.splice(0).map((redis) => redis.quit()));
});

afterAll(async () => {
  await testPrefix.cleanup();
});

/** A fresh emulator, and a cache factory on a prefix of this test's own ("a worker" per call). */
async function setup(emulatorOptions: EmulatorOptions = {}) {
  emulator = await startEmulator({ port: 0, ...emulatorOptions });
  const started = emulator;
  const prefix = `${testPrefix.prefix}:t${(testCount += 1)}`;
  const ai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: started.url } });
  const worker = (options: Partial<FilesCacheOptions> = {}) => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    extraRedis.push(redis);
    return new FilesCache({
      redis,
      prefix,
      client: new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: started.url } }),
      clock: started.clock,
      pollIntervalMs: 10,
      maxPollIntervalMs: 50,
      ...options,
    });
  };
  const fileCount = () => started.snapshot().files?.count;
  const exists = async (name: string) =>
    ai.files.get({ name }).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 403) return false;
        throw err;
      },
    );
  return { emulator: started, ai, worker, fileCount, exists, prefix };
}

describe("FilesCache", () => {
  it("uploads content once while workers race for it, and reuses it for other runs", async () => {
    // Processing takes a while, so the losers really wait on the winner's lock.
    const { emulator, worker, fileCount } = await setup({ files: { processingMs: 150 } });
    const workers = [worker(), worker(), worker(), worker()];
    const results = await Promise.all(
      workers.map((cache, i) =>
        cache.getOrUpload({ bytes: red, mimeType: "image/png", runId: `run-${i % 2}` }),
      ),
    );
    expect(new Set(results.map((r) => r.name)).size).toBe(1);
    expect(results[0]).toMatchObject({ mimeType: "image/png", hash: contentHash(red) });
    expect(fileCount()).toBe(1);

    const uploadsBefore = emulator.stats.byRoute.uploadFile;
    const again = await worker().getOrUpload({ bytes: red, mimeType: "image/png", runId: "run-2" });
    expect(again.name).toBe(results[0]?.name);
    expect(emulator.stats.byRoute.uploadFile).toBe(uploadsBefore);
    expect(await workers[0]?.usage()).toEqual({ usedBytes: red.length, quotaBytes: 19 * 1024 ** 3 });
  });

  it("reuses an upload until it is near expiry, then uploads again", async () => {
    const { emulator, worker, fileCount } = await setup();
    const cache = worker();
    const first = await cache.getOrUpload({ bytes: red, mimeType: "image/png", runId: "r" });

    emulator.clock.advance(46 * HOUR); // 2 h left: more than the 1 h margin
    expect((await cache.getOrUpload({ bytes: red, mimeType: "image/png", runId: "r" })).name).toBe(
      first.name,
    );
    expect(fileCount()).toBe(1);

    emulator.clock.advance(1.5 * HOUR); // 30 min left
    const second = await cache.getOrUpload({ bytes: red, mimeType: "image/png", runId: "r" });
    expect(second.name).not.toBe(first.name);
    expect(fileCount()).toBe(2);
    // The old file is still stored until the API expires it, so it still counts.
    expect((await cache.usage()).usedBytes).toBe(2 * red.length);

    emulator.clock.advance(HOUR);
    expect(fileCount()).toBe(1);
    expect((await cache.usage()).usedBytes).toBe(red.length);
    const answer = await generate(
      new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: emulator.url } }),
      {
        model: MODEL,
        prompt: "Describe this image.",
        images: [
          await imagePart({
            transport: "files",
            bytes: red,
            mimeType: "image/png",
            runId: "r",
            files: cache,
          }),
        ],
      },
    );
    expect(answer.text).toBe("A 64x48 image, mostly red (#d01010).");
  });

  it("recovers from a file deleted behind its back: the error names it, invalidate, upload again", async () => {
    const { ai, worker, fileCount } = await setup();
    const cache = worker();
    const first = await cache.getOrUpload({ bytes: green, mimeType: "image/png", runId: "r" });
    await ai.files.delete({ name: first.name });

    const part = await imagePart({
      transport: "files",
      bytes: green,
      mimeType: "image/png",
      runId: "r",
      files: cache,
    });
    const request = { model: MODEL, prompt: "Describe this image.", images: [part] };
    const failure = await generate(ai, request).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(FileUnavailableError);
    expect(failure).toMatchObject({ reason: "gone", fileName: first.name, errorClass: "transient" });

    expect(await cache.invalidate(first.hash, (failure as FileUnavailableError).fileName)).toBe(true);
    // A second report of the same dead file must not drop the replacement.
    const second = await cache.getOrUpload({ bytes: green, mimeType: "image/png", runId: "r" });
    expect(await cache.invalidate(first.hash, first.name)).toBe(false);
    expect(second.name).not.toBe(first.name);
    const retried = await generate(ai, {
      ...request,
      images: [
        await imagePart({
          transport: "files",
          bytes: green,
          mimeType: "image/png",
          runId: "r",
          files: cache,
        }),
      ],
    });
    expect(retried.text).toBe("A 64x48 image, mostly green (#10a040).");
    expect(fileCount()).toBe(1);
    expect((await cache.usage()).usedBytes).toBe(green.length);
  });

  it("marks a file that is not ACTIVE yet, and deletes an upload that stays PROCESSING too long", async () => {
    const { ai, worker, fileCount } = await setup({ files: { processingMs: HOUR } });
    const processing = await ai.files.upload({
      file: new Blob([new Uint8Array(blue)], { type: "image/png" }),
      config: { mimeType: "image/png" },
    });
    const failure = await generate(ai, {
      model: MODEL,
      prompt: "Describe this image.",
      images: [{ fileData: { fileUri: processing.uri ?? "", mimeType: "image/png" } }],
    }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ fileUnavailable: true, reason: "not_active", fileName: processing.name });

    const cache = worker({ activeTimeoutMs: 100 });
    const stuck = await cache
      .getOrUpload({ bytes: red, mimeType: "image/png", runId: "r" })
      .catch((err: unknown) => err);
    expect(stuck).toBeInstanceOf(TesseraError);
    expect(stuck).toMatchObject({
      errorClass: "transient",
      message: expect.stringMatching(/still PROCESSING/) as unknown,
    });
    expect(fileCount()).toBe(1); // only the one uploaded by hand
    expect((await cache.usage()).usedBytes).toBe(0);
  });

  it("reports an upload the API cannot process as bad_image, and keeps nothing", async () => {
    const { worker, fileCount } = await setup();
    const cache = worker();
    const notPng = Buffer.from("these bytes are not a PNG");
    const failure = await cache
      .getOrUpload({ bytes: notPng, mimeType: "image/png", runId: "r" })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({
      errorClass: "bad_image",
      message: expect.stringMatching(/could not process/) as unknown,
    });
    expect(fileCount()).toBe(0);
    expect((await cache.usage()).usedBytes).toBe(0);
  });

  it("releaseRun deletes only files no other unreleased run uses, and keeps what it is told to", async () => {
    const { worker, exists } = await setup();
    const cache = worker();
    const use = (bytes: Buffer, runId: string) => cache.getOrUpload({ bytes, mimeType: "image/png", runId });
    const redA = await use(red, "A");
    const greenA = await use(green, "A");
    await use(green, "B");
    const blueC = await use(blue, "C");
    await use(blue, "D");

    expect(await cache.releaseRun("A")).toEqual({ deleted: 1 });
    expect(await exists(redA.name)).toBe(false);
    expect(await exists(greenA.name)).toBe(true);
    expect((await cache.usage()).usedBytes).toBe(green.length + blue.length);
    // Released content is uploaded afresh when a run needs it again.
    const redE = await use(red, "E");
    expect(redE.name).not.toBe(redA.name);
    expect(await cache.releaseRun("E")).toEqual({ deleted: 1 });

    expect(await cache.releaseRun("B")).toEqual({ deleted: 1 });
    expect(await exists(greenA.name)).toBe(false);

    expect(await cache.releaseRun("C", { keep: true })).toEqual({ deleted: 0 });
    expect(await cache.releaseRun("D")).toEqual({ deleted: 0 });
    expect(await exists(blueC.name)).toBe(true);
    expect((await use(blue, "F")).name).toBe(blueC.name);
    expect(await cache.releaseRun("unknown")).toEqual({ deleted: 0 });
  });

  it("refuses an upload past its own quota, and past the API's, with FilesQuotaError", async () => {
    const { worker } = await setup({ files: { maxProjectBytes: red.length + green.length + 10 } });
    const cache = worker({ quotaBytes: red.length + green.length });
    await cache.getOrUpload({ bytes: red, mimeType: "image/png", runId: "A" });
    await cache.getOrUpload({ bytes: green, mimeType: "image/png", runId: "A" });
    const ours = await cache
      .getOrUpload({ bytes: blue, mimeType: "image/png", runId: "B" })
      .catch((err: unknown) => err);
    expect(ours).toBeInstanceOf(FilesQuotaError);
    expect(ours).toMatchObject({
      source: "tessera",
      requestedBytes: blue.length,
      usedBytes: red.length + green.length,
    });

    // A second Tessera deployment (its own prefix) on the same project: only the API can refuse.
    const other = new FilesCache({
      redis: testPrefix.redis,
      prefix: `${testPrefix.prefix}:other${testCount}`,
      client: new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: emulator?.url ?? "" } }),
    });
    const theirs = await other
      .getOrUpload({ bytes: blue, mimeType: "image/png", runId: "X" })
      .catch((err: unknown) => err);
    expect(theirs).toBeInstanceOf(FilesQuotaError);
    expect(theirs).toMatchObject({ source: "gemini", errorClass: "transient" });
    expect((await other.usage()).usedBytes).toBe(0);

    await cache.releaseRun("A");
    expect(await cache.getOrUpload({ bytes: blue, mimeType: "image/png", runId: "B" })).toMatchObject({
      hash: contentHash(blue),
    });
  });
});
