import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { generateScene, heicEncoderAvailable } from "@tessera/testing";
import { runTessera, startWorkers } from "../harness/processes.ts";
import { summarize } from "../harness/report.ts";
import { openLocalBench, parseRunSummary } from "../harness/setup.ts";
import { defineScenario } from "../scenario.ts";

/** Pinned rather than inherited, since the oversize PNG is sized to exceed exactly this. */
const MAX_SOURCE_BYTES = 256 * 2 ** 20;
const MiB = 2 ** 20;

interface Spec {
  name: string;
  width: number;
  height: number;
  format: "jpeg" | "png" | "heic";
  /** Flat grey stored without compression: as big as noise, in a second instead of half a minute. */
  stored?: boolean;
}

const times = (n: number, spec: (i: number) => Spec): Spec[] => Array.from({ length: n }, (_, i) => spec(i));

/** Noise compresses badly, so the JPEGs and PNGs are as large as their pixel counts allow. */
async function writeImage(path: string, spec: Spec, seed: number): Promise<void> {
  if (spec.format === "heic") {
    const scene = await generateScene({ width: spec.width, height: spec.height, seed, format: "heic" });
    return writeFile(path, scene.bytes);
  }
  const noise = { type: "gaussian", mean: 128, sigma: 40 } as const;
  const image = sharp({
    create: {
      width: spec.width,
      height: spec.height,
      channels: 3,
      background: "#808080",
      ...(spec.stored === true ? {} : { noise }),
    },
  });
  const encoded =
    spec.format === "jpeg"
      ? image.jpeg({ quality: 90 })
      : image.png({ compressionLevel: spec.stored === true ? 0 : 1 });
  // toFile, not toBuffer: a file of hundreds of MiB need not sit in this process.
  await encoded.toFile(path);
}

/** "key: reason" of every manifest line not done. */
async function failures(out: string, runId: string): Promise<Map<string, string>> {
  const text = await readFile(join(out, runId, "manifest.jsonl"), "utf8");
  const lines = text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { key: string; status: string; error?: { message: string } });
  return new Map(lines.filter((l) => l.status !== "done").map((l) => [l.key, l.error?.message ?? l.status]));
}

export const workerStressScenario = defineScenario({
  name: "worker-stress",
  summary: "peak RSS and event-loop delay of one worker on a hostile mix of huge JPEGs, PNGs and HEICs",
  knobs: {
    concurrency: { default: 4, quick: 4, help: "images in flight in the worker" },
    photos: { default: 6, quick: 2, help: "6000x4000 noise JPEGs" },
    big: { default: 1, quick: 0, help: "1: add a 16000x6000 JPEG and two 9000x9000 PNGs (~540 MiB)" },
    oversize: {
      default: 1,
      quick: 1,
      help: "1: add a 10000x10000 PNG (~287 MiB) that must fail as too large",
    },
    heic: { default: 2, quick: 1, help: "4032x3024 HEVC HEICs (only when heif-enc is installed)" },
    runs: { default: 3, quick: 1, help: "measured runs" },
  },
  async run({ concurrency, photos, big, oversize, heic, runs }) {
    const heicOk = heicEncoderAvailable();
    const mix: Spec[] = [
      ...times(photos, (i) => ({ name: `photo-${i}.jpg`, width: 6000, height: 4000, format: "jpeg" })),
      ...(big === 1
        ? [
            { name: "panorama.jpg", width: 16000, height: 6000, format: "jpeg" as const },
            ...times(2, (i) => ({ name: `scan-${i}.png`, width: 9000, height: 9000, format: "png" })),
          ]
        : []),
      ...(oversize === 1
        ? [{ name: "poster.png", width: 10000, height: 10000, format: "png" as const, stored: true }]
        : []),
      // HEVC HEIC is what phones write, and the one decode that runs on the worker's main thread.
      ...times(heicOk ? heic : 0, (i) => ({
        name: `phone-${i}.heic`,
        width: 4032,
        height: 3024,
        format: "heic",
      })),
    ];
    const bench = await openLocalBench(
      "workerstress",
      { latencyMs: 0 },
      {
        TESSERA_MAX_SOURCE_BYTES: String(MAX_SOURCE_BYTES),
      },
    );
    const dir = await mkdtemp(join(tmpdir(), "tessera-bench-stress-"));
    try {
      const src = join(dir, "src");
      await mkdir(src);
      const t = performance.now();
      const sizes = new Map<string, number>();
      for (const [i, spec] of mix.entries()) {
        await writeImage(join(src, spec.name), spec, i + 1);
        sizes.set(spec.name, (await stat(join(src, spec.name))).size);
      }
      const sourceBytes = [...sizes.values()].reduce((a, b) => a + b, 0);
      console.error(
        `generated ${mix.length} images, ${(sourceBytes / MiB).toFixed(0)} MiB, in ${((performance.now() - t) / 1000).toFixed(0)} s`,
      );
      if (oversize === 1 && sizes.get("poster.png")! <= MAX_SOURCE_BYTES)
        throw new Error(`poster.png is ${sizes.get("poster.png")} bytes, not above ${MAX_SOURCE_BYTES}`);

      const rss: number[] = [];
      const delayMax: number[] = [];
      const delayP99: number[] = [];
      const done: number[] = [];
      const failed: number[] = [];
      const wall: number[] = [];
      const reasons = new Set<string>();
      for (let r = 0; r < runs; r++) {
        await bench.resetRedis();
        const [worker] = await startWorkers(1, concurrency, bench.env, { loopDelay: true });
        const out = join(dir, `out-${r}`);
        const started = performance.now();
        const run = await runTessera(
          ["run", pathToFileURL(src).href, "--out", pathToFileURL(out).href, "--wait", "--json"],
          bench.env,
        );
        wall.push((performance.now() - started) / 1000);
        await worker!.stop();
        const stats = worker!.exitStats();
        if (stats?.eventLoopDelay === undefined) throw new Error(`no probe figures:\n${worker!.output()}`);
        const summary = parseRunSummary(run.stdout());
        const failedKeys = await failures(out, summary.runId);
        const tooLarge = failedKeys.get("poster.png") ?? "done";
        if (oversize === 1 && !/larger than \d+ bytes/.test(tooLarge))
          throw new Error(`poster.png should fail as too large, got: ${tooLarge}`);
        for (const [key, reason] of failedKeys) reasons.add(`${key}: ${reason}`);
        rss.push(stats.peakRssBytes / MiB);
        delayMax.push(stats.eventLoopDelay.maxMs);
        delayP99.push(stats.eventLoopDelay.p99Ms);
        done.push(summary.done);
        failed.push(summary.failed);
        console.error(
          `run ${r + 1}: peak RSS ${rss.at(-1)!.toFixed(0)} MiB, loop delay max ${delayMax.at(-1)!.toFixed(0)} ms ` +
            `(p99 ${delayP99.at(-1)!.toFixed(0)}), ${summary.done} done, ${summary.failed} failed`,
        );
      }
      return {
        metrics: [
          { name: "worker peak RSS", unit: "MiB", samples: rss },
          { name: "event-loop delay max", unit: "ms", samples: delayMax },
          { name: "event-loop delay p99", unit: "ms", samples: delayP99 },
          { name: "images done", unit: "images", samples: done },
          { name: "images failed", unit: "images", samples: failed },
          { name: "wall clock", unit: "s", samples: wall },
        ],
        // Nothing to hold this mix to: 400 MB is worker-memory's target, for another workload.
        targets: [],
        conditions: {
          images: mix.map(
            (s) => `${s.name} ${s.width}x${s.height} ${(sizes.get(s.name)! / MiB).toFixed(1)} MiB`,
          ),
          sourceMiB: +(sourceBytes / MiB).toFixed(1),
          heic: heicOk ? `${heic} HEVC HEICs` : "none: heif-enc is not installed",
          worker: `one process, concurrency ${concurrency}, task caption, detail standard, file:// source`,
          maxSourceBytes: MAX_SOURCE_BYTES,
          rss: "VmHWM of the worker process, read at its exit",
          eventLoopDelay:
            "monitorEventLoopDelay inside the worker (loop-probe.ts), 10 ms resolution, over its whole life " +
            "including start-up; an idle loop reads ~10 ms",
        },
        notes: [
          ...[...reasons].map((r) => `failed: ${r}`),
          `for scale only: peak RSS ${summarize(rss).median.toFixed(0)} MiB against the 400 MB (381 MiB) that worker-memory is held to`,
        ],
      };
    } finally {
      await bench.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
});
