import { makePhoto, uploadAll } from "../harness/images.ts";
import { startWorkers } from "../harness/processes.ts";
import { openBench, runAndWait } from "../harness/setup.ts";
import { defineScenario } from "../scenario.ts";

export const workerMemoryScenario = defineScenario({
  name: "worker-memory",
  summary: "peak RSS of one worker process annotating 50-megapixel images at concurrency 8",
  knobs: {
    images: { default: 24, quick: 8, help: "images per run" },
    megapixels: { default: 50, quick: 50, help: "size of each image (3:2)" },
    concurrency: { default: 8, quick: 8, help: "images in flight in the worker" },
    png: { default: 0, quick: 0, help: "1: PNG sources (no shrink-on-load) instead of JPEG" },
    runs: { default: 3, quick: 1, help: "measured runs" },
  },
  async run({ images, megapixels, concurrency, png, runs }) {
    const bench = await openBench("workermem", { latencyMs: 0 });
    try {
      const width = Math.round(Math.sqrt(megapixels * 1e6 * 1.5));
      const height = Math.round(width / 1.5);
      const format = png === 1 ? "png" : "jpeg";
      const distinct = Math.min(images, 4);
      const pool: Buffer[] = [];
      for (let i = 0; i < distinct; i++)
        pool.push(
          await makePhoto({ width, height, seed: i + 1, format, grain: 32, sensorNoise: 5, quality: 90 }),
        );
      await uploadAll(
        bench.bucket.storage("src"),
        images,
        (i) => ({
          key: `big-${String(i).padStart(4, "0")}.${format === "png" ? "png" : "jpg"}`,
          body: pool[i % distinct]!,
          contentType: `image/${format}`,
        }),
        4,
      );
      const rss: number[] = [];
      const rate: number[] = [];
      for (let r = 0; r < runs; r++) {
        await bench.resetRedis();
        const [worker] = await startWorkers(1, concurrency, bench.env);
        const { run, summary, seconds } = await runAndWait(bench, `out-${r}`);
        await worker!.stop();
        if (summary.done !== images)
          throw new Error(`annotated ${summary.done} of ${images}: ${run.stdout()}\n${worker!.output()}`);
        rss.push((worker!.exitStats()?.peakRssBytes ?? Number.NaN) / 2 ** 20);
        rate.push(images / seconds);
        console.error(
          `run ${r + 1}: peak RSS ${rss.at(-1)!.toFixed(0)} MiB, ${rate.at(-1)!.toFixed(2)} images/s`,
        );
      }
      return {
        metrics: [
          { name: "worker peak RSS", unit: "MiB", samples: rss },
          { name: "throughput", unit: "images/s", samples: rate },
        ],
        targets: [{ metric: "worker peak RSS", op: "<=", value: 400, label: "<= 400 MB" }],
        conditions: {
          images,
          size: `${width}x${height} ${format.toUpperCase()}`,
          bytesPerImage: Math.round(pool.reduce((a, b) => a + b.length, 0) / pool.length),
          worker: `one process, concurrency ${concurrency}, task caption, detail standard`,
          rss: "VmHWM of the worker process, read at its exit",
        },
      };
    } finally {
      await bench.close();
    }
  },
});
