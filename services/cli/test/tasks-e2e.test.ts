import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { annotationFileSchema, decodeRle, type AnnotationFile } from "@tessera/tasks";
import {
  generateScene,
  useTestBucket,
  useTestPrefix,
  type SceneTruth,
  type TestBucket,
} from "@tessera/testing";
import { cliEnv, closeAll, tessera, tesseraProcess } from "./cli.ts";

// Every task end to end: `tessera run --task <task>` from S3 to S3 through a worker process and
// the emulator, which sees the synthetic scenes. Geometry is checked against the scenes' ground
// truth in the ORIGINAL image's display pixels, through EXIF rotation and downscaling.

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let env: NodeJS.ProcessEnv;
let worker: ReturnType<typeof tesseraProcess>;
const truths = new Map<string, SceneTruth>();

const SCENES = [
  { key: "upright.png", width: 640, height: 480, seed: 1, format: "png" as const, orientation: 1 },
  { key: "rotated.jpg", width: 1600, height: 1200, seed: 2, format: "jpeg" as const, orientation: 6 },
  { key: "mirrored.jpg", width: 900, height: 700, seed: 3, format: "jpeg" as const, orientation: 5 },
];

beforeAll(async () => {
  redisEnv = await useTestPrefix("tasks");
  bucket = await useTestBucket();
  emulator = await startEmulator({ port: 0 });
  env = cliEnv(redisEnv.prefix, emulator.url, "tasks-test");
  const data = bucket.storage("scenes");
  for (const spec of SCENES) {
    const scene = await generateScene({
      width: spec.width,
      height: spec.height,
      seed: spec.seed,
      shapes: 3,
      format: spec.format,
      orientation: spec.orientation,
    });
    truths.set(spec.key, scene.truth);
    await data.put(spec.key, scene.bytes, { contentType: scene.mime });
  }
  worker = tesseraProcess(["worker", "--concurrency", "3"], env);
});

afterAll(async () => {
  await closeAll({ worker, emulator, bucket, redis: redisEnv });
});

async function runTask(task: string, args: string[] = []): Promise<AnnotationFile[]> {
  const out = `s3://${bucket.bucket}/out-${task}`;
  const result = await tessera(
    ["run", `s3://${bucket.bucket}/scenes`, "--out", out, "--task", task, ...args, "--wait", "--json"],
    env,
  );
  expect(result.code, result.stderr + worker.output()).toBe(0);
  const run = JSON.parse(result.stdout) as { runId: string; done: number; failed: number };
  expect(run, JSON.stringify(run)).toMatchObject({ done: SCENES.length, failed: 0 });
  const output = bucket.storage(`out-${task}/${run.runId}`);
  const annotations: AnnotationFile[] = [];
  for (const spec of SCENES) {
    annotations.push(
      annotationFileSchema.parse(
        JSON.parse((await output.get(`annotations/${spec.key}.json`)).toString("utf8")),
      ),
    );
  }
  return annotations;
}

function truthOf(annotation: AnnotationFile): SceneTruth {
  const truth = truths.get(annotation.source.key);
  if (!truth) throw new Error(`no truth for ${annotation.source.key}`);
  expect({ width: annotation.source.width, height: annotation.source.height }).toEqual({
    width: truth.width,
    height: truth.height,
  });
  return truth;
}

describe("every task, end to end", () => {
  it("detect: boxes in the original's display pixels within 1 % of the image size", async () => {
    for (const annotation of await runTask("detect")) {
      if (annotation.task !== "detect") throw new Error(annotation.task);
      const truth = truthOf(annotation);
      const tolerance = 0.01 * Math.max(truth.width, truth.height);
      expect(annotation.result.objects).toHaveLength(truth.objects.length);
      for (const object of truth.objects) {
        const found = annotation.result.objects.find((o) => o.label === object.label);
        expect(found, `${annotation.source.key}: ${object.label}`).toBeDefined();
        for (let i = 0; i < 4; i++)
          expect(Math.abs(found!.box[i]! - object.box[i]!)).toBeLessThanOrEqual(tolerance);
      }
    }
  });

  it("segment: masks with IoU >= 0.9 against the truth, a COCO file and previews", async () => {
    const annotations = await runTask("segment");
    const output = bucket.storage(`out-segment/${annotations[0]!.runId}`);
    const coco = JSON.parse((await output.get("coco.json")).toString("utf8")) as {
      images: unknown[];
      annotations: { segmentation: { counts: number[]; size: [number, number] } }[];
    };
    expect(coco.images).toHaveLength(SCENES.length);
    expect(coco.annotations).toHaveLength(SCENES.length * 3);
    for (const a of coco.annotations) {
      expect(a.segmentation.counts.reduce((x, y) => x + y, 0)).toBe(
        a.segmentation.size[0] * a.segmentation.size[1],
      );
    }
    for (const spec of SCENES) expect(await output.head(`previews/${spec.key}.png`)).toBeDefined();
    for (const annotation of annotations) {
      if (annotation.task !== "segment") throw new Error(annotation.task);
      const truth = truthOf(annotation);
      for (const object of truth.objects) {
        const found = annotation.result.objects.find((o) => o.label === object.label);
        expect(found?.mask, `${annotation.source.key}: ${object.label}`).toBeTruthy();
        const mask = decodeRle(found!.mask!.rle);
        let both = 0;
        let either = 0;
        for (let y = 0; y < truth.height; y++) {
          for (let x = 0; x < truth.width; x++) {
            const [x0, y0, x1, y1] = object.box;
            const inTruth =
              x >= x0 &&
              x < x1 &&
              y >= y0 &&
              y < y1 &&
              object.mask.data[(y - y0) * object.mask.width + (x - x0)] === 1;
            const inMask = mask[y * truth.width + x] === 1;
            if (inTruth && inMask) both++;
            if (inTruth || inMask) either++;
          }
        }
        expect(both / either, `${annotation.source.key}: ${object.label}`).toBeGreaterThanOrEqual(0.9);
      }
    }
  });

  it("classify, vqa, caption and custom answer about what the scenes hold", async () => {
    const colours = ["red", "green", "blue", "yellow", "magenta", "cyan", "orange", "purple"];
    for (const annotation of await runTask("classify", ["--labels", colours.join(",")])) {
      if (annotation.task !== "classify") throw new Error(annotation.task);
      expect(annotation.result.labels).toHaveLength(1);
      const label = annotation.result.labels[0]!;
      expect(truthOf(annotation).objects.map((o) => o.color)).toContain(label);
    }
    for (const annotation of await runTask("vqa", ["--question", "How many shapes are in the image?"])) {
      if (annotation.task !== "vqa") throw new Error(annotation.task);
      expect(annotation.result.answer).toContain(String(truthOf(annotation).objects.length));
    }
    for (const annotation of await runTask("caption")) {
      if (annotation.task !== "caption") throw new Error(annotation.task);
      const truth = truthOf(annotation);
      for (const object of truth.objects)
        expect(annotation.result.caption.toLowerCase()).toContain(object.color);
    }
    const schemaFile = join(tmpdir(), `tessera-custom-schema-${process.pid}.json`);
    await writeFile(
      schemaFile,
      JSON.stringify({ type: "object", properties: { count: { type: "integer" } }, required: ["count"] }),
    );
    for (const annotation of await runTask("custom", [
      "--prompt",
      "Count the shapes.",
      "--schema",
      schemaFile,
    ])) {
      if (annotation.task !== "custom") throw new Error(annotation.task);
      expect(annotation.result).toMatchObject({ json: { count: expect.any(Number) as number } });
    }
  });

  it("refuses a task option that does not belong to the task, and compare, before anything runs", async () => {
    const stray = await tessera(
      [
        "run",
        `s3://${bucket.bucket}/scenes`,
        "--out",
        `s3://${bucket.bucket}/x`,
        "--task",
        "caption",
        "--labels",
        "a,b",
      ],
      env,
    );
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("--task caption does not take --labels");
    const compare = await tessera(
      ["run", `s3://${bucket.bucket}/scenes`, "--out", `s3://${bucket.bucket}/x`, "--task", "compare"],
      env,
    );
    expect(compare.code).toBe(2);
    expect(compare.stderr).toMatch(/compares sets of images/);
    const badLabels = await tessera(
      [
        "run",
        `s3://${bucket.bucket}/scenes`,
        "--out",
        `s3://${bucket.bucket}/x`,
        "--task",
        "classify",
        "--labels",
        "only-one",
      ],
      env,
    );
    expect(badLabels.code).toBe(2);
    expect(badLabels.stderr).toMatch(/invalid options for task classify/);
  });
});
