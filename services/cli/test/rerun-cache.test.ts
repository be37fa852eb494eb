// Re-runs through the real CLI: `tessera run` twice over the same S3 images with the same
// settings pays once, the second run is complete on its own (annotations, previews, coco.json)
// and says what came from the cache; `--no-cache` pays again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { annotationFileSchema } from "@tessera/tasks";
import { generateScene, useTestBucket, useTestPrefix, type TestBucket } from "@tessera/testing";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

const KEYS = ["a.png", "b.jpg", "c.png"];

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let env: NodeJS.ProcessEnv;
let worker: ReturnType<typeof tesseraProcess>;

beforeAll(async () => {
  redisEnv = await useTestPrefix("rerun");
  bucket = await useTestBucket();
  emulator = await startEmulator({ port: 0 });
  env = {
    ...process.env,
    TESSERA_PREFIX: redisEnv.prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: "rerun-test",
    GEMINI_MODEL: "gemini-2.5-flash",
    LOG_LEVEL: "warn",
  };
  for (const [i, key] of KEYS.entries()) {
    const format = key.endsWith(".jpg") ? ("jpeg" as const) : ("png" as const);
    const scene = await generateScene({ width: 400, height: 300, seed: 10 + i, shapes: 2, format });
    await bucket.storage("scenes").put(key, scene.bytes, { contentType: scene.mime });
  }
  worker = tesseraProcess(["worker", "--concurrency", "3"], env);
});

afterAll(async () => {
  worker?.child.kill("SIGTERM");
  if (worker) await exitOf(worker.child);
  await emulator?.close();
  await bucket?.cleanup();
  await redisEnv?.cleanup();
});

const paid = () => emulator.stats.byRouteAndStatus.generateContent[200] ?? 0;

async function detectRun(
  extra: string[] = [],
): Promise<{ runId: string; done: number; cached: number; paid: number }> {
  const before = paid();
  const source = `s3://${bucket.bucket}/scenes`;
  const out = `s3://${bucket.bucket}/out`;
  const result = await tessera(
    ["run", source, "--out", out, "--task", "detect", ...extra, "--wait", "--json"],
    env,
  );
  expect(result.code, result.stderr + worker.output()).toBe(0);
  const run = JSON.parse(result.stdout) as { runId: string; done: number; cached: number; failed: number };
  expect(run.failed).toBe(0);
  return { ...run, paid: paid() - before };
}

describe("re-running the same images with the same settings", () => {
  it("pays once; the re-run is complete, counted as cached; --no-cache pays again", async () => {
    const first = await detectRun();
    expect(first).toMatchObject({ done: 3, cached: 0, paid: 3 });

    const second = await detectRun();
    expect(second).toMatchObject({ done: 3, cached: 3, paid: 0 });
    const output = bucket.storage(`out/${second.runId}`);
    for (const key of KEYS) {
      const annotation = annotationFileSchema.parse(
        JSON.parse((await output.get(`annotations/${key}.json`)).toString("utf8")),
      );
      expect(annotation).toMatchObject({ runId: second.runId, cachedFrom: first.runId, task: "detect" });
      // Previews are drawn again from the source (a read, not a call).
      expect(await output.head(`previews/${key}.png`)).toBeDefined();
    }
    const coco = JSON.parse((await output.get("coco.json")).toString("utf8")) as { images: unknown[] };
    expect(coco.images).toHaveLength(3);
    const status = await tessera(["status", second.runId], env);
    expect(status.stdout).toMatch(/done 3 of which 3 from the cache, no call/);

    const forced = await detectRun(["--no-cache"]);
    expect(forced).toMatchObject({ done: 3, cached: 0, paid: 3 });
  });
});
