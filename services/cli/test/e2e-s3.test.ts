import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestLineSchema, type ManifestLine } from "@tessera/core";
import { annotationFileSchema } from "@tessera/tasks";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { imageTokens, sentSize } from "@tessera/imaging";
import { COLORS, makeScene, useTestBucket, useTestPrefix, type TestBucket } from "@tessera/testing";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

const MODEL = "gemini-2.5-flash";

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let env: NodeJS.ProcessEnv;

const IMAGES = {
  "a/red.png": { width: 320, height: 240, format: "png" },
  "a/photo.jpg": { width: 1024, height: 768, format: "jpeg" },
  "b/wide.webp": { width: 1200, height: 300, format: "webp" },
  "b/no-extension": { width: 200, height: 200, format: "png" },
  "c/unicode café ünï.png": { width: 64, height: 96, format: "png" },
} as const;

beforeAll(async () => {
  redisEnv = await useTestPrefix("e2e");
  bucket = await useTestBucket();
  emulator = await startEmulator({ port: 0 });
  env = {
    ...process.env,
    TESSERA_PREFIX: redisEnv.prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: "e2e-test-key",
    GEMINI_MODEL: MODEL,
    LOG_LEVEL: "warn",
  };
  const data = bucket.storage("data");
  for (const [key, spec] of Object.entries(IMAGES)) {
    const bytes = await makeScene({
      width: spec.width,
      height: spec.height,
      background: COLORS.red,
      boxes: [
        {
          x: 0,
          y: 0,
          width: Math.floor(spec.width / 4),
          height: Math.floor(spec.height / 4),
          color: COLORS.blue,
        },
      ],
      format: spec.format,
    });
    await data.put(key, bytes, { contentType: "application/octet-stream" });
  }
  const torn = await makeScene({ width: 400, height: 300, background: COLORS.green, format: "jpeg" });
  await data.put("c/torn.jpg", torn.subarray(0, torn.length / 2), { contentType: "image/jpeg" });
  await data.put("b/fake.jpg", "this is not a jpeg", { contentType: "image/jpeg" });
  await data.put("c/empty.png", Buffer.alloc(0), { contentType: "image/png" });
  // Left by an earlier run inside the source: the run must not annotate its own outputs.
  await data.put(
    "_out/old/annotations/x.png",
    await makeScene({ width: 10, height: 10, background: COLORS.black }),
    {
      contentType: "image/png",
    },
  );
});

afterAll(async () => {
  await emulator?.close();
  await bucket?.cleanup();
  await redisEnv?.cleanup();
});

describe("tessera run, S3 to S3, through a worker process and the emulator", () => {
  it("annotates every image once, records everything else, and writes the output layout", async () => {
    const worker = tesseraProcess(["worker", "--concurrency", "4"], env);
    try {
      const source = `s3://${bucket.bucket}/data`;
      const out = `s3://${bucket.bucket}/data/_out`;
      // What the run will cost, from headers alone; nothing is queued or sent.
      const estimated = await tessera(["estimate", source, "--out", out, "--task", "caption", "--json"], env);
      expect(estimated.code, estimated.stderr).toBe(0);
      const estimate = JSON.parse(estimated.stdout) as {
        images: number;
        promptTokens: number;
        promptTextTokensPerRequest: number;
      };
      expect(estimate.images).toBe(7);
      expect(emulator.stats.requests).toBe(0);

      const result = await tessera(
        ["run", source, "--out", out, "--task", "caption", "--wait", "--json"],
        env,
      );
      expect(result.code, result.stderr + worker.output()).toBe(0);
      const run = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(run).toMatchObject({
        status: "completed",
        objects: 8,
        images: 7,
        done: 5,
        failed: 2,
        blocked: 0,
        skipped: 1,
      });
      const runId = String(run.runId);

      const output = bucket.storage(`data/_out/${runId}`);
      const manifestText = (await output.get("manifest.jsonl")).toString("utf8");
      const lines = manifestText
        .trim()
        .split("\n")
        .map((l) => manifestLineSchema.parse(JSON.parse(l)));
      const keys = lines.map((l) => l.key);
      expect(keys).toEqual([...keys].sort());
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.sort()).toEqual([...Object.keys(IMAGES), "c/torn.jpg", "b/fake.jpg", "c/empty.png"].sort());
      const byKey = new Map<string, ManifestLine>(lines.map((l) => [l.key, l]));
      expect(byKey.get("c/torn.jpg")).toMatchObject({ status: "failed", error: { class: "bad_image" } });
      // libvips words it "premature end of JPEG image", or "Unknown error" when several decodes
      // fail at once (its error buffer is shared): the class and the format are what is stable.
      expect(byKey.get("c/torn.jpg")?.error?.message).toMatch(/^undecodable jpeg: /);
      expect(byKey.get("b/fake.jpg")).toMatchObject({ status: "skipped", error: { class: "not_an_image" } });
      expect(byKey.get("c/empty.png")).toMatchObject({
        status: "failed",
        error: { class: "bad_image", message: "empty object (0 bytes)" },
      });

      let promptTokens = 0;
      for (const [key, spec] of Object.entries(IMAGES)) {
        const line = byKey.get(key);
        expect(line?.status, key).toBe("done");
        expect(line?.annotationKey).toBe(`${runId}/annotations/${key}.json`);
        const annotation = annotationFileSchema.parse(
          JSON.parse((await output.get(`annotations/${key}.json`)).toString("utf8")),
        );
        expect(annotation.source).toMatchObject({
          key,
          width: spec.width,
          height: spec.height,
          mime: `image/${spec.format}`,
        });
        expect(annotation.source.uri).toBe(`s3://${bucket.bucket}/data/${key}`);
        // Gemini saw the image capped at 1024 px ("standard" detail): same tile count, fewer bytes.
        const sent = sentSize({ width: spec.width, height: spec.height }, "standard");
        expect(annotation.sent).toMatchObject({ ...sent, detail: "standard" });
        if (annotation.task !== "caption")
          throw new Error(`a ${annotation.task} annotation in a caption run`);
        expect(annotation.result.caption).toContain(`${sent.width}x${sent.height}`);
        expect(annotation.result.caption).toMatch(/red/);
        expect(annotation.usage.imageTokens).toBe(imageTokens(spec, MODEL).tokens);
        expect(annotation.usage.imageTokens).toBe(imageTokens(sent, MODEL).tokens);
        expect(annotation.usage.promptTokens).toBeGreaterThan(annotation.usage.imageTokens);
        expect(annotation).toMatchObject({ runId, task: "caption", model: MODEL, finishReason: "STOP" });
        promptTokens += annotation.usage.promptTokens;
      }
      expect(run.tokens_prompt).toBe(promptTokens);
      // The estimate is exact under the emulator's documented tile rule: it differs from what was
      // billed by exactly the torn JPEG, whose header was fine and whose body was not.
      expect(run.estimate_tokens_prompt).toBe(estimate.promptTokens);
      expect(run.estimate_done_prompt).toBe(promptTokens);
      const torn =
        imageTokens({ width: 400, height: 300 }, MODEL).tokens + estimate.promptTextTokensPerRequest;
      expect(estimate.promptTokens - promptTokens).toBe(torn);

      const runJson = JSON.parse((await output.get("run.json")).toString("utf8")) as Record<string, unknown>;
      expect(runJson).toMatchObject({
        runId,
        status: "completed",
        counts: { done: 5, failed: 2, skipped: 1 },
      });
      // Nothing paid twice: one successful generateContent per annotated image.
      expect(emulator.stats.byRouteAndStatus.generateContent[200]).toBe(5);
      expect(emulator.stats.billedPromptTokens).toBe(promptTokens);

      const status = await tessera(["status", runId, "--json"], env);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ runId, status: "completed", done: 5, failed: 2 });
      const human = await tessera(["status", runId], env);
      expect(human.stdout).toMatch(/failed c\/torn\.jpg: undecodable jpeg/);
    } finally {
      worker.child.kill("SIGTERM");
    }
    expect(await exitOf(worker.child)).toBe(0);
  });
});

describe("bad input is refused before anything is enqueued", () => {
  async function queuedJobs(): Promise<number> {
    return (await redisEnv.redis.keys(`${redisEnv.prefix}:bull:annotate:*`)).length;
  }

  it.each([
    [
      "an unknown bucket",
      () => [`s3://tessera-no-such-bucket-${Date.now()}/x`, `s3://${bucket.bucket}/out`],
      /bucket.*(does not exist|not found)/i,
    ],
    [
      "a missing prefix",
      () => [`s3://${bucket.bucket}/nothing-here`, `s3://${bucket.bucket}/out`],
      /no objects under s3:\/\//,
    ],
    [
      "a missing folder",
      () => ["file:///nonexistent/tessera-test", "file:///tmp/tessera-out"],
      /does not exist/,
    ],
    ["a relative path", () => ["./images", "file:///tmp/tessera-out"], /file:\/\/|s3:\/\//],
  ])("%s", async (_label, locations, message) => {
    const before = await redisEnv.redis.zcard(`${redisEnv.prefix}:runs`);
    const jobsBefore = await queuedJobs();
    const [source, out] = locations();
    const result = await tessera(["run", source!, "--out", out!, "--task", "caption"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await redisEnv.redis.zcard(`${redisEnv.prefix}:runs`)).toBe(before);
    expect(await queuedJobs()).toBe(jobsBefore);
  });

  it("names an invalid flag, task or environment variable", async () => {
    const flag = await tessera(["run", "file:///tmp", "--out", "file:///tmp/o", "--bogus"], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--bogus");
    const task = await tessera(["run", "file:///tmp", "--out", "file:///tmp/o", "--task", "paint"], env);
    expect(task.code).toBe(2);
    expect(task.stderr).toContain('--task: unknown task "paint"');
    const variable = await tessera(["worker"], { ...env, TESSERA_CONCURRENCY: "many" });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain("TESSERA_CONCURRENCY");
    const redis = await tessera(["status"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    expect(redis.code).toBe(2);
    expect(redis.stderr).toMatch(/Redis is not reachable at redis:\/\/127\.0\.0\.1:1/);
  });
});
