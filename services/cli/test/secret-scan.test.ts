// A full run with marker secrets, debug logging and pre-signed URLs (--transport url), then a scan
// of everything Tessera left behind: every line the CLI and worker processes printed, every
// object under the output (annotations, manifest, run.json, the annotation cache, exports) and
// every Redis key of the deployment (run hash, items, events, BullMQ job payloads and errors).
// None may hold the Gemini API key, the S3 secret key or a signed URL's query.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import {
  COLORS,
  dumpRedisPrefix,
  dumpStorage,
  findSecrets,
  makeScene,
  useTestBucket,
  useTestPrefix,
  type SecretFinding,
  type TestBucket,
} from "@tessera/testing";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

const API_KEY = `AIza-tessera-marker-${randomBytes(12).toString("hex")}`;

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  redisEnv = await useTestPrefix("secrets");
  bucket = await useTestBucket();
  // Only the marker key is accepted: a request that did not carry it would fail the run.
  emulator = await startEmulator({ port: 0, apiKeys: [API_KEY] });
  env = {
    ...process.env,
    TESSERA_PREFIX: redisEnv.prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: API_KEY,
    GEMINI_MODEL: "gemini-2.5-flash",
    LOG_LEVEL: "debug",
  };
  const data = bucket.storage("in/");
  const colors = [COLORS.red, COLORS.blue, COLORS.green, COLORS.yellow];
  for (const [i, background] of colors.entries()) {
    await data.put(`ok-${i}.png`, await makeScene({ width: 320, height: 240, background }), {
      contentType: "image/png",
    });
  }
  const torn = await makeScene({ width: 300, height: 200, background: COLORS.blue, format: "jpeg" });
  await data.put("torn.jpg", torn.subarray(0, torn.length / 2), { contentType: "image/jpeg" });
  await data.put("notes.txt", "not an image", { contentType: "text/plain" });
});

afterAll(async () => {
  await emulator?.close();
  await bucket?.cleanup();
  await redisEnv?.cleanup();
});

describe("secrets never leave their place", () => {
  it("a debug-logged run with pre-signed URLs leaves no key, secret or signature anywhere", async () => {
    const s3Secret = process.env.AWS_SECRET_ACCESS_KEY ?? "";
    expect(s3Secret.length, "the S3 server's secret key is known to the test").toBeGreaterThanOrEqual(8);
    const secrets = { "Gemini API key": API_KEY, "S3 secret key": s3Secret };
    const texts = new Map<string, string>();

    const worker = tesseraProcess(["worker", "--concurrency", "2"], env);
    let runId = "";
    try {
      // Failures with messages travel through logs, Redis events and the manifest too.
      emulator.failNext(2, 503);
      const run = await tessera(
        [
          "run",
          `s3://${bucket.bucket}/in/`,
          "--out",
          `s3://${bucket.bucket}/out/`,
          "--transport",
          "url",
          "--log-level",
          "debug",
          "--wait",
          "--json",
        ],
        env,
      );
      texts.set("tessera run: stdout", run.stdout);
      texts.set("tessera run: stderr", run.stderr);
      expect(run.code, run.stderr + worker.output()).toBe(0);
      const state = JSON.parse(run.stdout) as {
        runId: string;
        done: number;
        failed: number;
        skipped: number;
      };
      expect(state).toMatchObject({ done: 4, failed: 1, skipped: 1 });
      runId = state.runId;
      for (const args of [
        ["status", runId, "--json"],
        ["status", runId],
        ["export", runId, "--format", "jsonl"],
      ]) {
        const result = await tessera([...args, "--log-level", "debug"], env);
        expect(result.code, result.stderr).toBe(0);
        texts.set(`tessera ${args.join(" ")}: stdout`, result.stdout);
        texts.set(`tessera ${args.join(" ")}: stderr`, result.stderr);
      }
    } finally {
      worker.child.kill("SIGTERM");
      await exitOf(worker.child);
    }
    texts.set("tessera worker: output", worker.output());
    expect(worker.output(), "debug logging was on").toMatch(/"level":"debug"/);

    const outputs = await dumpStorage(bucket.storage("out/"));
    // Pre-signed URLs were really made and used: the emulator fetched each done image by URL.
    const annotations = [...outputs].filter(([key]) => key.includes(`/${runId}/annotations/`));
    expect(annotations).toHaveLength(4);
    for (const [, text] of annotations) {
      expect((JSON.parse(text) as { sent: { transport: string } }).sent.transport).toBe("url");
    }
    expect([...outputs.keys()].some((k) => k.endsWith("manifest.jsonl"))).toBe(true);
    expect([...outputs.keys()].some((k) => k.endsWith("run.json"))).toBe(true);
    for (const [key, text] of outputs) texts.set(key, text);

    const redis = await dumpRedisPrefix(redisEnv.redis, redisEnv.prefix);
    // The run hash, its items and events, and BullMQ's job hashes (payloads, errors).
    expect([...redis.keys()].some((k) => k.includes(":bull:annotate:"))).toBe(true);
    for (const [key, text] of redis) texts.set(`redis ${key}`, text);

    const findings: SecretFinding[] = [];
    for (const [where, text] of texts) findings.push(...findSecrets(where, text, secrets));
    expect(findings).toEqual([]);
    // Figures for the report: how much was scanned.
    const bytes = [...texts.values()].reduce((n, t) => n + t.length, 0);
    console.log(`secret scan: ${texts.size} texts, ${bytes} bytes, ${findings.length} findings`);
  });
});
