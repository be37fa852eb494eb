import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestLineSchema, type ManifestLine } from "@tessera/core";
import { startEmulator, type Emulator, type EmulatorRequestEvent } from "@tessera/gemini-emulator";
import { estimateTextTokens, imageTokens, sentSize } from "@tessera/imaging";
import { annotationFileSchema, bindTask, requestTexts, type AnnotationFile } from "@tessera/tasks";
import {
  generateScene,
  useTestBucket,
  useTestPrefix,
  type SceneTruth,
  type TestBucket,
} from "@tessera/testing";
import { cliEnv, closeAll, tessera, tesseraProcess } from "./cli.ts";

// Several images per request, end to end: `tessera run --images-per-request N` from S3 through a
// worker process and the emulator, whose sight answers each labelled image. Each image must get
// its own annotation about ITS pixels (a mix-up of keys would give it another scene's colours or
// count), the emulator must see fewer requests than images, the bill must equal the worker's
// estimate of what it sent, and a torn image must fail alone while its request-mates succeed.

const MODEL = "gemini-2.5-flash";
let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let env: NodeJS.ProcessEnv;
let worker: ReturnType<typeof tesseraProcess>;
const truths = new Map<string, SceneTruth>();
const requests: EmulatorRequestEvent[] = [];

// Different shape counts, so a count answered for the wrong image is caught.
const SCENES = [
  { key: "s/one.png", width: 640, height: 480, shapes: 1, format: "png" as const, orientation: 1 },
  { key: "s/two.jpg", width: 800, height: 600, shapes: 2, format: "jpeg" as const, orientation: 6 },
  { key: "s/three.webp", width: 500, height: 500, shapes: 3, format: "webp" as const, orientation: 1 },
  { key: "s/four.png", width: 1200, height: 400, shapes: 4, format: "png" as const, orientation: 1 },
  { key: "s/five.jpg", width: 300, height: 700, shapes: 5, format: "jpeg" as const, orientation: 1 },
  { key: "s/six.png", width: 900, height: 900, shapes: 6, format: "png" as const, orientation: 1 },
];
const TORN = { key: "s/torn.jpg", width: 400, height: 300 };
const IMAGES = SCENES.length + 1;

beforeAll(async () => {
  redisEnv = await useTestPrefix("multi");
  bucket = await useTestBucket();
  emulator = await startEmulator({
    port: 0,
    onRequest: (event) => {
      if (event.route === "generateContent") requests.push(event);
    },
  });
  env = cliEnv(redisEnv.prefix, emulator.url, "multi-test");
  const data = bucket.storage("scenes");
  for (const [index, spec] of SCENES.entries()) {
    const scene = await generateScene({ ...spec, seed: 40 + index });
    truths.set(spec.key, scene.truth);
    await data.put(spec.key, scene.bytes, { contentType: scene.mime });
  }
  // The header is fine (the scan enqueues it), the body is cut: it fails in the worker.
  const torn = await generateScene({ ...TORN, seed: 9, format: "jpeg" });
  await data.put(TORN.key, torn.bytes.subarray(0, Math.floor(torn.bytes.length / 2)), {
    contentType: "image/jpeg",
  });
  worker = tesseraProcess(["worker", "--concurrency", "2"], env);
});

afterAll(async () => {
  await closeAll({ worker, emulator, bucket, redis: redisEnv });
});

interface RunView {
  runId: string;
  done: number;
  cached?: number;
  failed: number;
  skipped: number;
  tokens_prompt: number;
  estimate_tokens_prompt: number;
  estimate_done_prompt: number;
}

async function run(
  task: string,
  args: string[],
): Promise<{ run: RunView; annotations: Map<string, AnnotationFile>; lines: Map<string, ManifestLine> }> {
  const out = `s3://${bucket.bucket}/out-${task}`;
  requests.length = 0;
  emulator.resetStats();
  const result = await tessera(
    ["run", `s3://${bucket.bucket}/scenes`, "--out", out, "--task", task, ...args, "--wait", "--json"],
    env,
  );
  expect(result.code, result.stderr + worker.output()).toBe(0);
  const view = JSON.parse(result.stdout) as RunView;
  const output = bucket.storage(`out-${task}/${view.runId}`);
  const lines = new Map(
    (await output.get("manifest.jsonl"))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => manifestLineSchema.parse(JSON.parse(l)))
      .map((l) => [l.key, l] as const),
  );
  const annotations = new Map<string, AnnotationFile>();
  for (const line of lines.values()) {
    if (line.status !== "done") continue;
    expect(line.annotationKey?.startsWith(`${view.runId}/`)).toBe(true);
    const text = (await output.get(line.annotationKey!.slice(view.runId.length + 1))).toString("utf8");
    annotations.set(line.key, annotationFileSchema.parse(JSON.parse(text)));
  }
  return { run: view, annotations, lines };
}

/** Text tokens of a caption request of n images, as the estimate counts them. */
function captionTextTokens(n: number): number {
  const texts = requestTexts(bindTask("caption", {}, MODEL).build(n));
  return texts.reduce((sum, t) => sum + estimateTextTokens(t), 0);
}

describe("several images per request, end to end", () => {
  it("caption: 4 per request, each image its own caption, a torn image failing alone, the bill as estimated", async () => {
    const estimated = await tessera(
      [
        "estimate",
        `s3://${bucket.bucket}/scenes`,
        "--task",
        "caption",
        "--images-per-request",
        "4",
        "--json",
      ],
      env,
    );
    expect(estimated.code, estimated.stderr).toBe(0);
    const estimate = JSON.parse(estimated.stdout) as {
      images: number;
      requests: number;
      promptTokens: number;
    };
    expect(estimate).toMatchObject({ images: IMAGES, requests: 2 });

    const { run: view, annotations, lines } = await run("caption", ["--images-per-request", "4"]);
    expect(view).toMatchObject({ done: SCENES.length, failed: 1 });
    expect(lines.get(TORN.key)).toMatchObject({ status: "failed", error: { class: "bad_image" } });
    // 7 images, 2 requests: the torn image was dropped from its request, the rest were sent.
    expect(requests.filter((r) => r.status === 200)).toHaveLength(2);
    expect(emulator.stats.imagesSeen).toBe(SCENES.length);

    for (const spec of SCENES) {
      const annotation = annotations.get(spec.key)!;
      if (annotation.task !== "caption") throw new Error(annotation.task);
      const truth = truths.get(spec.key)!;
      expect(annotation.source).toMatchObject({ key: spec.key, width: truth.width, height: truth.height });
      // Sight's captions name the size it received and the shapes: every scene's size differs.
      const sent = sentSize({ width: truth.width, height: truth.height }, "standard");
      expect(annotation.sent).toMatchObject(sent);
      expect(annotation.result.caption, spec.key).toContain(`${sent.width}x${sent.height}`);
      const caption = annotation.result.caption.toLowerCase();
      // Up to four shapes are named by colour, more are counted.
      if (truth.objects.length > 4) expect(caption).toContain(`${truth.objects.length} coloured shapes`);
      else for (const object of truth.objects) expect(caption, spec.key).toContain(object.color);
      expect(annotation.request, spec.key).toBeDefined();
      expect(annotation.usage.imageTokens).toBe(imageTokens(annotation.sent, MODEL).tokens);
      expect(lines.get(spec.key)?.tokens?.prompt).toBe(annotation.usage.promptTokens);
    }
    // The request that held the torn image went with one image fewer.
    // Packed in listing order: [five four one six] and [three torn two]; the second went as 2.
    expect(annotations.get("s/one.png")?.request).toMatchObject({ images: 4, position: 3 });
    expect(annotations.get("s/two.jpg")?.request).toMatchObject({ images: 2, position: 2 });

    // The shares add up to the bill; the worker's estimate of what it sent is the bill exactly.
    expect(view.tokens_prompt).toBe(emulator.stats.billedPromptTokens);
    expect(view.estimate_done_prompt).toBe(view.tokens_prompt);
    // The scan's estimate (what `estimate` printed) differs by the torn image and one label less.
    expect(view.estimate_tokens_prompt).toBe(estimate.promptTokens);
    const tornTokens = imageTokens(TORN, MODEL).tokens;
    expect(estimate.promptTokens - view.tokens_prompt).toBe(
      tornTokens + captionTextTokens(3) - captionTextTokens(2),
    );
  });

  it("a cut-off answer fails only the images whose keys it lost; their share of the bill is still counted", async () => {
    // One request for every image; the emulator cuts its answer at half its tokens. The first
    // test's annotations are in the cache of this output: --no-cache, so the images are sent.
    emulator.failNext(1, "truncate");
    const {
      run: view,
      annotations,
      lines,
    } = await run("caption", ["--images-per-request", "8", "--no-cache"]);
    expect(requests.filter((r) => r.status === 200)).toHaveLength(1);
    const lost = SCENES.filter((spec) => lines.get(spec.key)?.status === "failed");
    const kept = SCENES.filter((spec) => lines.get(spec.key)?.status === "done");
    expect(lost.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(lost.length + kept.length).toBe(SCENES.length);
    for (const spec of lost) {
      const line = lines.get(spec.key)!;
      expect(line.error).toMatchObject({ class: "unparseable" });
      expect(line.error?.message).toMatch(
        /^truncated: (img_\d+ missing from the answer, which was cut off|the caption was cut off)$/,
      );
      expect(line.tokens?.prompt).toBeGreaterThan(0);
    }
    for (const spec of kept) {
      const annotation = annotations.get(spec.key)!;
      if (annotation.task !== "caption") throw new Error(annotation.task);
      const sent = sentSize({ width: spec.width, height: spec.height }, "standard");
      if (!annotation.partial) expect(annotation.result.caption).toContain(`${sent.width}x${sent.height}`);
    }
    expect(view.tokens_prompt).toBe(emulator.stats.billedPromptTokens);
  });

  it("a re-run with the cache pays nothing for images annotated in requests of several", async () => {
    // Every image the first caption run annotated is in this output's cache (the cut-off run's
    // failures stored nothing, its successes refreshed their entries): nothing is sent; the torn
    // image fails again before any call.
    const { run: view, annotations, lines } = await run("caption", ["--images-per-request", "4"]);
    expect(view).toMatchObject({ done: SCENES.length, failed: 1, cached: SCENES.length, tokens_prompt: 0 });
    expect(requests).toHaveLength(0);
    for (const spec of SCENES) {
      const annotation = annotations.get(spec.key)!;
      if (annotation.task !== "caption") throw new Error(annotation.task);
      expect(lines.get(spec.key)).toMatchObject({ status: "done", cached: true });
      expect(lines.get(spec.key)?.tokens).toBeUndefined();
      expect(annotation.cachedFrom).toBeDefined();
      expect(annotation.source.key).toBe(spec.key);
    }
  });

  it("classify: 3 per request, each label one of its own image's colours", async () => {
    const colours = ["red", "green", "blue", "yellow", "magenta", "cyan", "orange", "purple"];
    const { run: view, annotations } = await run("classify", [
      "--labels",
      colours.join(","),
      "--images-per-request",
      "3",
    ]);
    expect(view).toMatchObject({ done: SCENES.length, failed: 1 });
    // [five four one] [six three torn] [two]: three requests, the second without the torn image.
    expect(requests.filter((r) => r.status === 200)).toHaveLength(3);
    expect(annotations.get("s/three.webp")?.request).toMatchObject({ images: 2, position: 2 });
    expect(annotations.get("s/two.jpg")?.request).toBeUndefined();
    for (const spec of SCENES) {
      const annotation = annotations.get(spec.key)!;
      if (annotation.task !== "classify") throw new Error(annotation.task);
      expect(annotation.result.labels).toHaveLength(1);
      expect(truths.get(spec.key)!.objects.map((o) => o.color)).toContain(annotation.result.labels[0]);
    }
    expect(view.tokens_prompt).toBe(emulator.stats.billedPromptTokens);
  });

  it("vqa: each image's own question from --questions; images without one are skipped as unselected", async () => {
    const file = join(tmpdir(), `tessera-questions-${process.pid}.jsonl`);
    const asked = SCENES.slice(0, 3);
    await writeFile(
      file,
      asked
        .map((s) => JSON.stringify({ key: s.key, question: `How many shapes are in ${s.key}?` }))
        .join("\n"),
    );
    const { run: view, annotations, lines } = await run("vqa", ["--questions", file]);
    expect(view).toMatchObject({ done: asked.length, failed: 0, skipped: IMAGES - asked.length });
    expect(lines.size).toBe(IMAGES);
    for (const spec of asked) {
      const annotation = annotations.get(spec.key)!;
      if (annotation.task !== "vqa") throw new Error(annotation.task);
      expect(annotation.result.question).toBe(`How many shapes are in ${spec.key}?`);
      expect(annotation.result.answer).toContain(String(spec.shapes));
    }
    for (const spec of SCENES.slice(3)) {
      expect(lines.get(spec.key)).toMatchObject({ status: "skipped", error: { class: "unselected" } });
    }
    // Per-image questions change the request, so each annotation's config hash names its own.
    const hashes = new Set(asked.map((s) => annotations.get(s.key)!.configHash));
    expect(hashes.size).toBe(asked.length);
  });

  it("compare: sets from --sets, one annotation per set, a shared image uploaded once, a bad member failing its set", async () => {
    const file = join(tmpdir(), `tessera-sets-${process.pid}.jsonl`);
    const [one, two, three, four, five, six] = SCENES.map((s) => s.key);
    await writeFile(
      file,
      [
        JSON.stringify([one, two]),
        JSON.stringify({ id: "trio", keys: [one, three, four] }),
        JSON.stringify({ id: "with-torn", keys: [five, TORN.key] }),
        JSON.stringify({ id: "with-missing", keys: [six, "s/nope.png"] }),
      ].join("\n"),
    );
    const { run: view, annotations, lines } = await run("compare", ["--sets", file, "--keep-files"]);
    expect(view).toMatchObject({ done: 2, failed: 2 });
    expect([...lines.keys()].sort()).toEqual(["set-1", "trio", "with-missing", "with-torn"]);
    expect(lines.get("trio")).toMatchObject({ status: "done", members: [one, three, four] });
    expect(lines.get("with-torn")).toMatchObject({ status: "failed", error: { class: "bad_image" } });
    expect(lines.get("with-torn")?.error?.message).toMatch(/^member s\/torn\.jpg: /);
    expect(lines.get("with-missing")?.error?.message).toBe("member s/nope.png: not found");
    expect(requests.filter((r) => r.status === 200)).toHaveLength(2);
    for (const [id, keys] of [
      ["set-1", [one, two]],
      ["trio", [one, three, four]],
    ] as const) {
      const annotation = annotations.get(id)!;
      if (annotation.task !== "compare") throw new Error(annotation.task);
      expect(annotation.set?.members.map((m) => m.key)).toEqual(keys);
      expect(annotation.source.key).toBe(one);
      // Different scenes: sight finds differences, each naming images by their source keys.
      expect(annotation.result.differences.length).toBeGreaterThan(0);
      for (const d of annotation.result.differences) for (const k of d.images) expect(keys).toContain(k);
      // one.png is in two sets: uploaded once through the Files API, the others inline.
      for (const member of annotation.set!.members) {
        expect(member.sent.transport, member.key).toBe(member.key === one ? "files" : "inline");
      }
    }
    // Kept (--keep-files) so they can be counted: one file, for the one shared image.
    expect(emulator.snapshot().files?.count).toBe(1);
    expect(view.tokens_prompt).toBe(emulator.stats.billedPromptTokens);
    expect(view.estimate_done_prompt).toBe(view.tokens_prompt);
    // Exports name the set and its members.
    const exported = await tessera(["export", view.runId, "--format", "csv"], env);
    expect(exported.code, exported.stderr).toBe(0);
    const csv = (await bucket.storage(`out-compare/${view.runId}`).get("export.csv")).toString("utf8");
    expect(csv.split("\r\n")[0]).toBe("set,members,summary,differences");
    expect(csv).toContain(`trio,${one} | ${three} | ${four},`);

    // The torn member is replaced: `retry --failed` sends that set again, as a set.
    const data = bucket.storage("scenes");
    const torn = await data.get(TORN.key);
    await data.put(TORN.key, (await generateScene({ ...TORN, seed: 9, format: "jpeg" })).bytes, {
      contentType: "image/jpeg",
    });
    try {
      const retried = await tessera(["retry", view.runId, "--failed", "--wait", "--json"], env);
      expect(retried.code, retried.stderr + worker.output()).toBe(0);
      expect(JSON.parse(retried.stdout)).toMatchObject({ done: 3, failed: 1 });
      const again = bucket.storage(`out-compare/${view.runId}`);
      const set = annotationFileSchema.parse(
        JSON.parse((await again.get("sets/with-torn.json")).toString("utf8")),
      );
      expect(set.set?.members.map((m) => m.key)).toEqual([five, TORN.key]);
    } finally {
      await data.put(TORN.key, torn, { contentType: "image/jpeg" });
    }
  });

  it("refuses --images-per-request for a one-image task and past the model's limit", async () => {
    const args = ["run", `s3://${bucket.bucket}/scenes`, "--out", `s3://${bucket.bucket}/x`];
    const detect = await tessera([...args, "--task", "detect", "--images-per-request", "2"], env);
    expect(detect.code).toBe(2);
    expect(detect.stderr).toMatch(/--task detect sends one image per request/);
    const tooMany = await tessera([...args, "--task", "caption", "--images-per-request", "5000"], env);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/takes at most 3600 images per request/);
  });
});
