import { performance } from "node:perf_hooks";
import { makePhoto, uploadAll } from "../harness/images.ts";
import { BARE_LOOP, cpuSeconds, startNode, startWorkers } from "../harness/processes.ts";
import type { Metric } from "../harness/report.ts";
import { MODEL, openBench, runAndWait } from "../harness/setup.ts";
import { defineScenario } from "../scenario.ts";

const POOL = 40;

export const overheadScenario = defineScenario({
  name: "overhead",
  summary:
    "images/s through Tessera (CLI run + worker processes, Redis, S3) vs a bare loop, emulator latency 0",
  knobs: {
    images: { default: 2000, quick: 60, help: "images of ~200 KB (1024x768 JPEG)" },
    workers: { default: 2, quick: 2, help: "Tessera worker processes" },
    concurrency: {
      default: 8,
      quick: 4,
      help: "images in flight per worker; the bare loop runs workers x concurrency",
    },
    runs: { default: 3, quick: 1, help: "measured runs of each side, interleaved" },
  },
  async run({ images, workers, concurrency, runs }) {
    const bench = await openBench("overhead", { latencyMs: 0 });
    try {
      const pool = await Promise.all(
        Array.from({ length: POOL }, (_, i) =>
          makePhoto({ width: 1024, height: 768, seed: i + 1, format: "jpeg", grain: 7 }),
        ),
      );
      const source = bench.bucket.storage("src");
      await uploadAll(source, images, (i) => ({
        key: `img-${String(i).padStart(6, "0")}.jpg`,
        body: pool[i % POOL]!,
        contentType: "image/jpeg",
      }));
      const meanBytes = pool.reduce((a, b) => a + b.length, 0) / POOL;
      const total = workers * concurrency;
      const tessera: number[] = [];
      const bare: number[] = [];
      const ratio: number[] = [];
      const workerCpu: number[] = [];
      const runCpu: number[] = [];
      const emulatorCpu: number[] = [];
      const bareCpu: number[] = [];
      const workerRss: number[] = [];
      for (let r = 0; r < runs; r++) {
        // Tessera: workers are up before the clock starts; the run command (scan + enqueue +
        // waiting for the last annotation and the manifest) is timed from spawn to exit.
        await bench.resetRedis();
        const fleet = await startWorkers(workers, concurrency, bench.env);
        const fleetCpuBefore = fleet.reduce((s, w) => s + cpuSeconds(w.child.pid), 0);
        let emu = process.cpuUsage();
        const { run, summary, seconds: tesseraSeconds } = await runAndWait(bench, `out-tessera-${r}`);
        emu = process.cpuUsage(emu);
        workerCpu.push(fleet.reduce((s, w) => s + cpuSeconds(w.child.pid), 0) - fleetCpuBefore);
        runCpu.push(run.exitStats()?.cpuSeconds ?? Number.NaN);
        emulatorCpu.push((emu.user + emu.system) / 1e6);
        await Promise.all(fleet.map((w) => w.stop()));
        workerRss.push(Math.max(...fleet.map((w) => w.exitStats()?.peakRssBytes ?? 0)) / 2 ** 20);
        if (summary.done !== images)
          throw new Error(`Tessera annotated ${summary.done} of ${images}: ${run.stdout()}`);
        tessera.push(images / tesseraSeconds);

        // The bare loop, same emulator, same concurrency in total.
        const t0 = performance.now();
        const loop = startNode(BARE_LOOP, [], {
          ...bench.env,
          BARE_BUCKET: bench.bucket.bucket,
          BARE_SOURCE_PREFIX: "src/",
          BARE_OUT_PREFIX: `out-bare-${r}/`,
          BARE_CONCURRENCY: String(total),
          GEMINI_MODEL: MODEL,
        });
        const code = await loop.exited;
        const bareSeconds = (performance.now() - t0) / 1000;
        if (code !== 0) throw new Error(`bare loop failed:\n${loop.output()}`);
        const answer = JSON.parse(loop.stdout().trim()) as { images: number; errors: number };
        if (answer.images !== images)
          throw new Error(`bare loop did ${answer.images} of ${images}: ${loop.output()}`);
        bare.push(images / bareSeconds);
        bareCpu.push(loop.exitStats()?.cpuSeconds ?? Number.NaN);
        ratio.push(tessera.at(-1)! / bare.at(-1)!);
        console.error(
          `run ${r + 1}: tessera ${tessera.at(-1)!.toFixed(1)}/s, bare ${bare.at(-1)!.toFixed(1)}/s`,
        );
      }
      const metrics: Metric[] = [
        { name: "tessera", unit: "images/s", samples: tessera },
        { name: "bare loop", unit: "images/s", samples: bare },
        { name: "tessera / bare", unit: "x", samples: ratio },
        { name: "worker CPU (all workers)", unit: "s", samples: workerCpu },
        { name: "run command CPU", unit: "s", samples: runCpu },
        { name: "emulator CPU", unit: "s", samples: emulatorCpu },
        { name: "bare loop CPU", unit: "s", samples: bareCpu },
        { name: "worker peak RSS", unit: "MiB", samples: workerRss },
      ];
      return {
        metrics,
        targets: [{ metric: "tessera / bare", op: ">=", value: 0.7, label: ">= 0.7x" }],
        conditions: {
          images,
          imageBytesMean: Math.round(meanBytes),
          imageSize: "1024x768 JPEG",
          tessera: `${workers} worker processes x concurrency ${concurrency}, task caption, detail standard`,
          bareLoop: `one process, ${total} loops`,
          emulator: "in the benchmark process, latency 0, no limits",
          timing: "wall clock from spawning the run command (or the bare loop) to its exit",
        },
      };
    } finally {
      await bench.close();
    }
  },
});
