// An answer that cannot be read is retried once with a stricter prompt, against real Redis, the
// real S3 server and the emulator over HTTP: the retry carries the extra instruction, only the
// unreadable units are sent again, and the run pays for (and counts) every answer, wasted or not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Annotation, ManifestLine, RunConfig } from "@tessera/core";
import type { Emulator, EmulatorRequestEvent } from "@tessera/gemini-emulator";
import type { RunStore } from "@tessera/queue";
import { type RunState } from "@tessera/queue";
import { STRICT_JSON_INSTRUCTION } from "@tessera/tasks";
import type { TestBucket } from "@tessera/testing";
import type { WorkerDeps } from "../src/index.ts";
import { openWorkerTestEnv, runJobsToEnd, testRunConfig, type WorkerTestEnv } from "./support.ts";

let redisEnv: WorkerTestEnv["redisEnv"];
let bucket: TestBucket;
let emulator: Emulator;
let runs: RunStore;
let deps: WorkerDeps;
let counter = 0;
const requests: EmulatorRequestEvent[] = [];

let env: WorkerTestEnv | undefined;

beforeAll(async () => {
  env = await openWorkerTestEnv("strict-retry", {
    onRequest: (event: EmulatorRequestEvent) => {
      if (event.route === "generateContent") requests.push(event);
    },
  });
  ({ redisEnv, bucket, emulator, runs, deps } = env);
});

afterAll(async () => {
  await env?.close();
});

interface Finished {
  config: RunConfig;
  run: RunState;
  lines: ManifestLine[];
  /** What the emulator answered and billed during the run. */
  asked: EmulatorRequestEvent[];
  billed: { prompt: number; output: number };
}

/** A classify run over the three images, `perRequest` to a request, each run in its own output. */
async function runToEnd(
  perRequest: number,
  keys = ["img-0.png", "img-1.png", "img-2.png"],
): Promise<Finished> {
  const runId = `strict${++counter}`;
  const config = testRunConfig(runId, `s3://${bucket.bucket}/src/`, `s3://${bucket.bucket}/out/${runId}/`, {
    task: "classify",
    taskOptions: JSON.stringify({ labels: ["yellow", "blue", "green"] }),
    imagesPerRequest: perRequest,
    cache: false,
  });
  await runs.create(config);
  const firstRequest = requests.length;
  const billedBefore = {
    prompt: emulator.stats.billedPromptTokens,
    output: emulator.stats.billedOutputTokens,
  };
  const refs = [];
  for await (const object of deps.storage(config.source).list()) {
    if (keys.includes(object.key))
      refs.push({ key: object.key, etag: object.etag, size: object.size, mime: "image/png" });
  }
  refs.sort((a, b) => a.key.localeCompare(b.key));
  const payloads = [];
  for (let i = 0; i < refs.length; i += perRequest) {
    payloads.push({ runId, images: refs.slice(i, i + perRequest) });
  }
  const env = { redis: redisEnv.redis, prefix: redisEnv.prefix, concurrency: 1 };
  const { run, lines } = await runJobsToEnd(deps, env, config, payloads, refs.length);
  return {
    config,
    run,
    lines: lines.sort((a, b) => a.key.localeCompare(b.key)),
    asked: requests.slice(firstRequest),
    billed: {
      prompt: emulator.stats.billedPromptTokens - billedBefore.prompt,
      output: emulator.stats.billedOutputTokens - billedBefore.output,
    },
  };
}

async function annotationOf(finished: Finished, line: ManifestLine): Promise<Annotation> {
  const bytes = await deps.storage(finished.config.out).get(line.annotationKey!);
  return JSON.parse(bytes.toString("utf8")) as Annotation;
}

const strictAsked = (event: EmulatorRequestEvent) =>
  (event.texts ?? []).some((text) => text.includes(STRICT_JSON_INSTRUCTION));
const tokensOf = (lines: readonly ManifestLine[]) => ({
  prompt: lines.reduce((sum, l) => sum + (l.tokens?.prompt ?? 0), 0),
  output: lines.reduce((sum, l) => sum + (l.tokens?.output ?? 0), 0),
});

/** Every run of this file ends with nothing kept aside: each unusable bill went into a line. */
async function expectNothingAside(runId: string): Promise<void> {
  expect(await redisEnv.redis.hlen(runs.keys.unusable(runId))).toBe(0);
}

describe("an unreadable answer gets one stricter retry", () => {
  it("a garbled first answer is asked again with the stricter prompt, and both calls are paid for", async () => {
    const plain = await runToEnd(1, ["img-0.png"]);
    expect(plain.asked).toHaveLength(1);
    expect(strictAsked(plain.asked[0]!)).toBe(false);

    emulator.failNext(1, "garbled");
    const retried = await runToEnd(1, ["img-0.png"]);
    expect(retried.asked.map((e) => [e.status, e.faults ?? []])).toEqual([
      [200, ["garbled"]],
      [200, []],
    ]);
    expect(strictAsked(retried.asked[0]!)).toBe(false);
    expect(strictAsked(retried.asked[1]!)).toBe(true);
    expect(retried.run).toMatchObject({ done: 1, failed: 0 });
    const [line] = retried.lines;
    expect(line).toMatchObject({ status: "done", attempts: 2 });

    // The bill: the wasted call is in the line and in the run, which equal what the emulator billed.
    expect({ prompt: retried.run.tokens_prompt, output: retried.run.tokens_output }).toEqual(retried.billed);
    expect(tokensOf(retried.lines)).toEqual(retried.billed);
    expect(retried.billed.prompt).toBeGreaterThan(plain.billed.prompt);

    const annotation = await annotationOf(retried, line!);
    const before = await annotationOf(plain, plain.lines[0]!);
    expect(annotation.result).toEqual(before.result);
    // Same settings, same config hash: the stricter wording does not split the cache.
    expect(annotation.configHash).toBe(before.configHash);
    expect(annotation.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^strict_retry: .*not_json/)]),
    );
    // The annotation's usage is its own call's; the line adds the wasted one.
    expect(annotation.usage.promptTokens).toBeLessThan(line!.tokens!.prompt);
    expect(await redisEnv.redis.hget(runs.keys.run(retried.config.runId), "warn:strict_retry")).toBe("1");
    await expectNothingAside(retried.config.runId);
  });

  it("a unit unreadable twice fails as unparseable, with both calls' tokens", async () => {
    emulator.failNext(2, "garbled");
    const failed = await runToEnd(1, ["img-1.png"]);
    expect(failed.asked).toHaveLength(2);
    expect(failed.asked.map(strictAsked)).toEqual([false, true]);
    expect(failed.run).toMatchObject({ done: 0, failed: 1 });
    const [line] = failed.lines;
    expect(line).toMatchObject({ status: "failed", error: { class: "unparseable" }, attempts: 2 });
    expect(line!.error!.message).toMatch(/^not_json: .*stricter prompt; first: not_json/);
    expect(tokensOf(failed.lines)).toEqual(failed.billed);
    expect({ prompt: failed.run.tokens_prompt, output: failed.run.tokens_output }).toEqual(failed.billed);
    expect(failed.run.cost_micros).toBeGreaterThan(0);
    await expectNothingAside(failed.config.runId);
  });

  it("a cut-off answer is not retried: the partial result stands as before", async () => {
    emulator.failNext(1, "truncate");
    const cut = await runToEnd(3);
    expect(cut.asked).toHaveLength(1);
    expect(cut.asked.some(strictAsked)).toBe(false);
    expect(tokensOf(cut.lines)).toEqual(cut.billed);
    await expectNothingAside(cut.config.runId);
  });

  it("in a request of three images only the unreadable one is sent again", async () => {
    emulator.failNext(1, "drop-key");
    const batch = await runToEnd(3);
    expect(batch.asked).toHaveLength(2);
    const [first, second] = batch.asked;
    expect(first!.faults).toEqual(["drop-key"]);
    expect(first!.texts).toEqual(expect.arrayContaining(["Image img_1:", "Image img_2:", "Image img_3:"]));
    expect(strictAsked(first!)).toBe(false);
    // The retry: one image (no image labels), with the stricter instruction.
    expect(second!.texts!.some((t) => t.startsWith("Image img_"))).toBe(false);
    expect(strictAsked(second!)).toBe(true);

    expect(batch.run).toMatchObject({ done: 3, failed: 0 });
    expect(batch.lines.map((l) => [l.key, l.status, l.attempts])).toEqual([
      ["img-0.png", "done", 1],
      ["img-1.png", "done", 1],
      ["img-2.png", "done", 2],
    ]);
    const warned = [];
    for (const line of batch.lines) {
      const annotation = await annotationOf(batch, line);
      warned.push(annotation.warnings.some((w) => w.startsWith("strict_retry: ")));
    }
    expect(warned).toEqual([false, false, true]);
    expect(tokensOf(batch.lines)).toEqual(batch.billed);
    expect({ prompt: batch.run.tokens_prompt, output: batch.run.tokens_output }).toEqual(batch.billed);
    await expectNothingAside(batch.config.runId);
  });
});
