import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManifestLine } from "@tessera/core";
import { estimateRequestTokens, estimateTextTokens } from "@tessera/imaging";
import type { EnqueueItem } from "@tessera/queue";
import { openStorage, type Storage } from "@tessera/storage";
import { bindTask, requestTexts } from "@tessera/tasks";
import { defaultRequestLimits } from "./deps.ts";
import { inListingOrder, sentBytesBound } from "./scan-requests.ts";
import { scanSource, type ScanPlan, type ScanSink } from "./scan.ts";

const MODEL = "gemini-2.5-flash";
let dir: string;
let storage: Storage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-scan-"));
  for (let i = 0; i < 5; i++) {
    const png = await sharp({ create: { width: 100 + i * 200, height: 300, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    await writeFile(join(dir, `img-${i}.png`), png);
  }
  await writeFile(join(dir, "notes.txt"), "not an image");
  storage = openStorage(pathToFileURL(dir).href);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function collectingSink(): ScanSink & { jobs: EnqueueItem<"annotate">[]; lines: ManifestLine[] } {
  const jobs: EnqueueItem<"annotate">[] = [];
  const lines: ManifestLine[] = [];
  return {
    jobs,
    lines,
    earlierOutcome: () => Promise.resolve(undefined),
    record: (line) => {
      lines.push(line);
      return Promise.resolve();
    },
    enqueue: (items) => {
      jobs.push(...items);
      return Promise.resolve();
    },
    cancelled: () => Promise.resolve(false),
  };
}

function plan(overrides: Partial<ScanPlan> = {}): ScanPlan {
  return {
    runId: "r1",
    model: MODEL,
    detail: "standard",
    convert: "convert",
    task: bindTask("caption", {}, MODEL),
    imagesPerRequest: 1,
    limits: defaultRequestLimits(MODEL),
    transport: "auto",
    ...overrides,
  };
}

describe("scanSource packing", () => {
  it("packs images into requests of up to N, one job each, priced per request as sent", async () => {
    const sink = collectingSink();
    const figures = await scanSource(sink, plan({ imagesPerRequest: 2 }), storage, () => new Date(), {
      probeConcurrency: 4,
    });
    expect(figures).toMatchObject({ images: 5, skipped: 1, requests: 3 });
    // Packed in listing order whatever order the probes finish in: requests hold neighbours.
    expect(sink.jobs.map((j) => j.payload.images.map((i) => i.key))).toEqual([
      ["img-0.png", "img-1.png"],
      ["img-2.png", "img-3.png"],
      ["img-4.png"],
    ]);
    expect(new Set(sink.jobs.map((j) => j.jobId)).size).toBe(3);
    const task = bindTask("caption", {}, MODEL);
    let expected = 0;
    for (const job of sink.jobs) {
      const images = job.payload.images;
      expected += estimateRequestTokens(
        MODEL,
        images.map((i) => ({ width: i.width!, height: i.height! })),
        requestTexts(task.build(images.length)),
      );
    }
    expect(figures.estimatedPromptTokens).toBe(expected);
    // Per image: its own tokens plus its share of its request's text, adding up to the total.
    const sum = figures.imageTokens.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - expected)).toBeLessThanOrEqual(figures.imageTokens.length);
  });

  it("a resumed scan forms the same requests, so their jobs keep their ids, and leaves recorded images out", async () => {
    const first = collectingSink();
    await scanSource(first, plan({ imagesPerRequest: 2 }), storage, () => new Date());
    const resumed = collectingSink();
    const done: ManifestLine = { key: "img-1.png", etag: "x", status: "done", at: new Date().toISOString() };
    resumed.earlierOutcome = (key) => Promise.resolve(key === "img-1.png" ? done : undefined);
    const figures = await scanSource(resumed, plan({ imagesPerRequest: 2 }), storage, () => new Date());
    expect(figures).toMatchObject({ images: 5, requests: 3 });
    expect(resumed.jobs.map((j) => j.jobId)).toEqual(first.jobs.map((j) => j.jobId));
    expect(resumed.jobs[0]!.payload.images.map((i) => i.key)).toEqual(["img-0.png"]);
  });

  it("keeps one image per request by default: the plain-text prompt, as before", async () => {
    const sink = collectingSink();
    const figures = await scanSource(sink, plan(), storage, () => new Date());
    expect(figures.requests).toBe(5);
    const text = requestTexts(bindTask("caption", {}, MODEL).build(1)).reduce(
      (s, t) => s + estimateTextTokens(t),
      0,
    );
    expect(figures.imageTokens.every((t) => t > text)).toBe(true);
  });

  it("vqa --questions: each listed image carries its question, the others are skipped as unselected", async () => {
    const sink = collectingSink();
    const questions = new Map([["img-1.png", "How many shapes?"]]);
    const figures = await scanSource(
      sink,
      plan({ task: bindTask("vqa", { question: "placeholder" }, MODEL), questions, onlyQuestioned: true }),
      storage,
      () => new Date(),
    );
    expect(figures).toMatchObject({ images: 1, skipped: 5, requests: 1 });
    expect(sink.jobs[0]!.payload.images).toEqual([
      expect.objectContaining({ key: "img-1.png", question: "How many shapes?" }),
    ]);
    expect(sink.lines.filter((l) => l.error?.class === "unselected")).toHaveLength(4);
  });
});

describe("sentBytesBound", () => {
  it("counts a resized image at most at 4 bytes a sent pixel, an original at its size", () => {
    const sent = { width: 1024, height: 768 };
    expect(sentBytesBound(30_000_000, sent, "standard")).toBe(1024 * 768 * 4 + 65_536);
    expect(sentBytesBound(200_000, sent, "standard")).toBe(200_000);
    expect(sentBytesBound(30_000_000, sent, "original")).toBe(30_000_000);
  });
});

describe("inListingOrder", () => {
  it("passes items on in sequence order whatever order they arrive in, skipping holes", async () => {
    const seen: string[] = [];
    const feed = inListingOrder<string>(async (item) => {
      seen.push(item);
      await Promise.resolve();
    });
    await feed(2, "c");
    await feed(1, undefined);
    expect(seen).toEqual([]);
    await feed(0, "a");
    await feed(4, "e");
    await feed(3, "d");
    expect(seen).toEqual(["a", "c", "d", "e"]);
  });
});
