import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestLineSchema, type ManifestLine } from "@tessera/core";
import { annotationFileSchema } from "@tessera/tasks";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import {
  COLORS,
  dumpRedisPrefix,
  findSecrets,
  makeScene,
  useTestBucket,
  useTestPrefix,
  type TestBucket,
} from "@tessera/testing";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

const SIGNATURE = "X-Amz-Signature=e2e0123456789secretsig";
let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let bucket: TestBucket;
let emulator: Emulator;
let server: Server;
let host: string;
let dir: string;
let list: string;
let env: NodeJS.ProcessEnv;
const images = new Map<string, Buffer>();

beforeAll(async () => {
  redisEnv = await useTestPrefix("e2e-urls");
  bucket = await useTestBucket();
  emulator = await startEmulator({ port: 0 });
  images.set("/photos/red.png", await makeScene({ width: 320, height: 240, background: COLORS.red }));
  images.set(
    "/photos/blue.jpg",
    await makeScene({ width: 640, height: 480, background: COLORS.blue, format: "jpeg" }),
  );
  images.set(
    "/signed/green.webp",
    await makeScene({ width: 200, height: 100, background: COLORS.green, format: "webp" }),
  );
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/big.png")
      return void res.writeHead(200, { "content-length": 3_000_000 }).end(Buffer.alloc(3_000_000));
    const body = images.get(url.pathname);
    if (body === undefined || (url.pathname.startsWith("/signed/") && url.search !== `?${SIGNATURE}`)) {
      return void res.writeHead(404).end();
    }
    res
      .writeHead(200, { etag: `"${url.pathname.length}-${body.length}"`, "content-length": body.length })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), "tessera-e2e-urls-"));
  const file = path.join(dir, "list.txt");
  await writeFile(
    file,
    [
      "# three images, one behind a signed query, a missing one and one too big",
      `http://${host}/photos/red.png`,
      `http://${host}/photos/blue.jpg`,
      `http://${host}/signed/green.webp?${SIGNATURE}`,
      `http://${host}/photos/missing.png`,
      `http://${host}/big.png`,
    ].join("\n"),
  );
  list = `urls+${pathToFileURL(file).href}`;
  env = {
    ...process.env,
    TESSERA_PREFIX: redisEnv.prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: "e2e-test-key",
    GEMINI_MODEL: "gemini-2.5-flash",
    LOG_LEVEL: "warn",
    TESSERA_URL_MAX_BYTES: "1000000",
  };
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await emulator?.close();
  await bucket?.cleanup();
  await redisEnv?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function runList(out: string, extraEnv: NodeJS.ProcessEnv) {
  const runEnv = { ...env, ...extraEnv };
  const worker = tesseraProcess(["worker", "--concurrency", "2"], runEnv);
  try {
    const result = await tessera(
      ["run", list, "--out", out, "--task", "caption", "--wait", "--json"],
      runEnv,
    );
    expect(result.code, result.stderr + worker.output()).toBe(0);
    const run = JSON.parse(result.stdout) as Record<string, unknown>;
    const output = bucket.storage(`${out.slice(`s3://${bucket.bucket}/`.length)}/${String(run.runId)}`);
    const lines = (await output.get("manifest.jsonl"))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => manifestLineSchema.parse(JSON.parse(l)));
    const everything: string[] = [result.stdout, result.stderr];
    for await (const object of output.list())
      everything.push(object.key, (await output.get(object.key)).toString("utf8"));
    return {
      run,
      output,
      byKey: new Map<string, ManifestLine>(lines.map((l) => [l.key, l])),
      everything: everything.join("\n"),
      worker,
    };
  } finally {
    worker.child.kill("SIGTERM");
    expect(await exitOf(worker.child)).toBe(0);
    expect(worker.output()).not.toContain("secretsig");
  }
}

describe("tessera run urls+file://list.txt, through a worker process, to S3", () => {
  it("annotates the URLs' images when private addresses are allowed; failures are per image", async () => {
    const { run, output, byKey, everything } = await runList(`s3://${bucket.bucket}/urls-out`, {
      TESSERA_URL_ALLOW_PRIVATE: "true",
    });
    expect(run).toMatchObject({ status: "completed", images: 5, done: 3, failed: 2 });
    const key = (p: string) => `${host.replace(":", "_")}${p}`;
    const signedKey = [...byKey.keys()].find((k) => k.includes("/signed/"))!;
    expect(signedKey).toMatch(/\/signed\/green~q[0-9a-f]{12}\.webp$/);
    for (const k of [key("/photos/red.png"), key("/photos/blue.jpg"), signedKey]) {
      expect(byKey.get(k)?.status, k).toBe("done");
      const annotation = annotationFileSchema.parse(
        JSON.parse((await output.get(`annotations/${k}.json`)).toString("utf8")),
      );
      expect(annotation.source.key).toBe(k);
      if (annotation.task !== "caption") throw new Error("not a caption");
      expect(annotation.result.caption.length).toBeGreaterThan(0);
    }
    const missing = byKey.get(key("/photos/missing.png"));
    expect(missing).toMatchObject({ status: "failed", error: { class: "permanent" } });
    expect(missing?.error?.message).toMatch(/HTTP 404/);
    const big = byKey.get(key("/big.png"));
    expect(big).toMatchObject({ status: "failed", error: { class: "permanent" } });
    expect(big?.error?.message).toMatch(/3000000 bytes, more than the 1000000/);
    expect(everything).not.toContain("secretsig");
  });

  it("refuses loopback by default, each image failing with the reason, the run completing", async () => {
    const requestsBefore = emulator.stats.requests;
    const { run, byKey, everything } = await runList(`s3://${bucket.bucket}/urls-refused`, {});
    expect(run).toMatchObject({ status: "completed", images: 5, done: 0, failed: 5 });
    for (const line of byKey.values()) {
      expect(line).toMatchObject({ status: "failed", error: { class: "permanent" } });
      expect(line.error?.message).toMatch(
        /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1 \(loopback\); set TESSERA_URL_ALLOW_PRIVATE=true/,
      );
    }
    expect(emulator.stats.requests).toBe(requestsBefore);
    expect(everything).not.toContain("secretsig");

    // Allowed afterwards, `retry --failed` sends the refused images; the 404 and the too big one
    // still fail when probed again, so they are passed by and keep their outcome.
    const allowed = { ...env, TESSERA_URL_ALLOW_PRIVATE: "true" };
    const worker = tesseraProcess(["worker", "--concurrency", "2"], allowed);
    try {
      const retried = await tessera(["retry", String(run.runId), "--failed", "--wait", "--json"], allowed);
      expect(retried.code, retried.stderr + worker.output()).toBe(0);
      expect(JSON.parse(retried.stdout)).toMatchObject({ status: "completed", done: 3, failed: 2 });
      expect(retried.stdout + retried.stderr + worker.output()).not.toContain("secretsig");
    } finally {
      worker.child.kill("SIGTERM");
      expect(await exitOf(worker.child)).toBe(0);
    }
  });

  it("leaves no signed query in Redis (run hashes, items, job payloads and errors)", async () => {
    const dump = await dumpRedisPrefix(redisEnv.redis, redisEnv.prefix);
    expect(dump.size).toBeGreaterThan(0);
    const findings = [...dump].flatMap(([where, text]) =>
      findSecrets(where, text, { sig: "e2e0123456789secretsig" }),
    );
    expect(findings).toEqual([]);
  });
});
