// Peak memory and event-loop delay of one `tessera worker` process annotating large images.
//   node services/cli/bench/worker-memory.ts [--concurrency 4]
// Needs Redis (REDIS_URL, default 127.0.0.1:6379; a unique key prefix is used and deleted).
// Images are generated into a temporary folder and read through file:// so that the figures are
// the worker's own: decoding, orienting and resizing, then sending to the emulator (which runs in
// this process, not in the measured one). Prints one JSON line of results.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { startEmulator } from "@tessera/gemini-emulator";
import { generateScene, heicEncoderAvailable, useTestPrefix } from "@tessera/testing";
import { MAIN, tessera } from "../test/cli.ts";

const concurrency = Number(process.argv[process.argv.indexOf("--concurrency") + 1] ?? 4) || 4;

/** Noise compresses badly, so files are as large as their pixel counts allow. */
async function noiseImage(width: number, height: number, format: "jpeg" | "png"): Promise<Buffer> {
  const image = sharp({
    create: {
      width,
      height,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  });
  return format === "jpeg"
    ? image.jpeg({ quality: 90 }).toBuffer()
    : image.png({ compressionLevel: 1 }).toBuffer();
}

const IMAGES: { name: string; width: number; height: number; format: "jpeg" | "png" }[] = [
  ...Array.from({ length: 6 }, (_, i) => ({
    name: `photo-${i}.jpg`,
    width: 6000,
    height: 4000,
    format: "jpeg" as const,
  })),
  { name: "panorama.jpg", width: 16000, height: 6000, format: "jpeg" },
  { name: "scan-0.png", width: 9000, height: 9000, format: "png" },
  { name: "scan-1.png", width: 9000, height: 9000, format: "png" },
  { name: "poster.png", width: 10000, height: 10000, format: "png" },
];

/**
 * HEVC HEIC (what phones write) is decoded in WebAssembly on the worker's main thread when it must
 * be resized: the one decode that can hold the event loop. Included when heif-enc is installed.
 */
const HEIC = heicEncoderAvailable()
  ? [
      { name: "phone-0.heic", width: 4032, height: 3024 },
      { name: "phone-1.heic", width: 4032, height: 3024 },
    ]
  : [];

const dir = await mkdtemp(join(tmpdir(), "tessera-bench-memory-"));
const redisEnv = await useTestPrefix("bench-memory");
const emulator = await startEmulator({ port: 0 });
try {
  const src = join(dir, "src");
  await mkdir(src, { recursive: true });
  let sourceBytes = 0;
  let largestFile = 0;
  for (const spec of IMAGES) {
    const path = join(src, spec.name);
    await writeFile(path, await noiseImage(spec.width, spec.height, spec.format));
    const size = (await stat(path)).size;
    sourceBytes += size;
    largestFile = Math.max(largestFile, size);
  }
  for (const [i, spec] of HEIC.entries()) {
    const scene = await generateScene({
      width: spec.width,
      height: spec.height,
      seed: i + 1,
      format: "heic",
    });
    await writeFile(join(src, spec.name), scene.bytes);
    sourceBytes += scene.bytes.length;
  }
  const env = {
    ...process.env,
    TESSERA_PREFIX: redisEnv.prefix,
    GOOGLE_GEMINI_BASE_URL: emulator.url,
    GEMINI_API_KEY: "bench-memory",
    LOG_LEVEL: "warn",
  };
  const worker = spawn(
    process.execPath,
    [
      "--import",
      new URL("./loop-monitor.ts", import.meta.url).pathname,
      MAIN,
      "worker",
      "--concurrency",
      String(concurrency),
    ],
    { env, stdio: ["ignore", "inherit", "pipe"] },
  );
  let workerErr = "";
  worker.stderr.on("data", (d: Buffer) => (workerErr += d.toString()));
  const started = Date.now();
  const run = await tessera(
    ["run", pathToFileURL(src).href, "--out", pathToFileURL(join(dir, "out")).href, "--wait", "--json"],
    env,
    600_000,
  );
  const seconds = (Date.now() - started) / 1000;
  worker.kill("SIGTERM");
  await new Promise((resolve) => worker.once("exit", resolve));
  const line = /BENCH (\{.*\})/.exec(workerErr);
  if (run.code !== 0 || !line) throw new Error(`run failed (${run.code}): ${run.stderr}\n${workerErr}`);
  const figures = JSON.parse(line[1]!) as {
    peakRssBytes: number;
    eventLoopDelayMaxMs: number;
    eventLoopDelayP99Ms: number;
  };
  const state = JSON.parse(run.stdout) as { runId: string; done: number; failed: number };
  const manifest = await readFile(join(dir, "out", state.runId, "manifest.jsonl"), "utf8");
  const failures = manifest
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { key: string; status: string; error?: { message: string } })
    .filter((line) => line.status !== "done")
    .map((line) => `${line.key}: ${line.error?.message ?? line.status}`);
  console.log(
    JSON.stringify({
      concurrency,
      images: IMAGES.length + HEIC.length,
      heic: HEIC.length,
      done: state.done,
      failed: state.failed,
      failures,
      largestImageMegapixels: Math.max(...IMAGES.map((i) => (i.width * i.height) / 1e6)),
      sourceMiB: +(sourceBytes / 2 ** 20).toFixed(1),
      largestFileMiB: +(largestFile / 2 ** 20).toFixed(1),
      peakRssMiB: +(figures.peakRssBytes / 2 ** 20).toFixed(0),
      eventLoopDelayMaxMs: +figures.eventLoopDelayMaxMs.toFixed(0),
      eventLoopDelayP99Ms: +figures.eventLoopDelayP99Ms.toFixed(0),
      seconds: +seconds.toFixed(1),
    }),
  );
} finally {
  await emulator.close();
  await redisEnv.cleanup();
  await rm(dir, { recursive: true, force: true });
}
