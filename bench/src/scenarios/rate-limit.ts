import type { EmulatorRequestEvent } from "@tessera/gemini-emulator";
import { makePhoto, uploadAll } from "../harness/images.ts";
import { BARE_LOOP, startNode, startWorkers } from "../harness/processes.ts";
import { MODEL, openBench, runAndWait } from "../harness/setup.ts";
import { defineScenario } from "../scenario.ts";

export const rateLimitScenario = defineScenario({
  name: "rate-limit",
  summary:
    "share of the RPM limit a fleet uses, 429s, and speed-up over the guide's sequential loop (~1 s latency)",
  knobs: {
    rpm: {
      default: 1000,
      quick: 120,
      help: "requests per minute, enforced by the emulator and given to the fleet",
    },
    tpm: { default: 1_000_000, quick: 1_000_000, help: "input tokens per minute, likewise" },
    minutes: { default: 2, quick: 1, help: "whole minutes measured from the first request" },
    latency: { default: 1000, quick: 1000, help: "emulator latency per call in ms (+-10 %)" },
    workers: { default: 2, quick: 2, help: "worker processes" },
    concurrency: { default: 16, quick: 4, help: "images in flight per worker" },
    sequential: { default: 30, quick: 5, help: "images the sequential loop annotates to measure its rate" },
    runs: { default: 3, quick: 1, help: "measured runs" },
  },
  async run({ rpm, tpm, minutes, latency, workers, concurrency, sequential, runs }) {
    // Requests as Gemini counts them: when they arrive, not when they are answered.
    const arrivals: { at: number; status: number; key: string | undefined }[] = [];
    const bench = await openBench(
      "ratelimit",
      {
        latencyMs: { min: latency * 0.9, max: latency * 1.1 },
        rateLimits: { all: { rpm, tpm } },
        onRequest: (event: EmulatorRequestEvent) => {
          if (event.route === "generateContent")
            arrivals.push({
              at: Date.now() - event.durationMs,
              status: event.status,
              key: event.headers["x-goog-api-key"],
            });
        },
      },
      { TESSERA_RPM: String(rpm), TESSERA_TPM: String(tpm) },
    );
    try {
      // Enough work that the queue never runs dry inside the measured minutes.
      const images = rpm * minutes + Math.ceil(rpm / 4);
      const pool = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          makePhoto({ width: 320, height: 240, seed: i + 1, format: "jpeg", grain: 4 }),
        ),
      );
      await uploadAll(bench.bucket.storage("src"), images, (i) => ({
        key: `img-${String(i).padStart(6, "0")}.jpg`,
        body: pool[i % pool.length]!,
        contentType: "image/jpeg",
      }));
      const share: number[] = [];
      const tpmShare: number[] = [];
      const rate429: number[] = [];
      const count429: number[] = [];
      const endToEnd: number[] = [];
      const sequentialRate: number[] = [];
      const speedup: number[] = [];
      const busiest: number[] = [];
      for (let r = 0; r < runs; r++) {
        await bench.resetRedis();
        // A fresh limit window for each run: wait out the previous run's minute.
        if (r > 0) await new Promise((res) => setTimeout(res, 61_000));
        arrivals.length = 0;
        const billedBefore = bench.emulator.stats.billedPromptTokens;
        const fleet = await startWorkers(workers, concurrency, bench.env);
        const { run, summary, seconds } = await runAndWait(bench, `out-${r}`);
        await Promise.all(fleet.map((w) => w.stop()));
        if (summary.done !== images)
          throw new Error(`Tessera annotated ${summary.done} of ${images}: ${run.stdout()}`);
        const ok = arrivals
          .filter((a) => a.status === 200)
          .map((a) => a.at)
          .sort((a, b) => a - b);
        const first = ok[0]!;
        const inWindow = ok.filter((t) => t < first + minutes * 60_000).length;
        const tokensPerRequest = (bench.emulator.stats.billedPromptTokens - billedBefore) / ok.length;
        share.push(inWindow / (rpm * minutes));
        tpmShare.push((inWindow * tokensPerRequest) / (tpm * minutes));
        busiest.push(Math.max(...ok.map((s) => ok.filter((t) => t >= s && t < s + 60_000).length)));
        const limited = arrivals.filter((a) => a.status === 429).length;
        count429.push(limited);
        rate429.push(limited / arrivals.length);
        endToEnd.push((images / seconds) * 60);

        // The guide's loop: one image at a time, under its own key so it has its own quota.
        const loop = startNode(BARE_LOOP, [], {
          ...bench.env,
          GEMINI_API_KEY: "tessera-bench-sequential",
          BARE_BUCKET: bench.bucket.bucket,
          BARE_SOURCE_PREFIX: "src/",
          BARE_OUT_PREFIX: `out-sequential-${r}/`,
          BARE_CONCURRENCY: "1",
          BARE_LIMIT: String(sequential),
          GEMINI_MODEL: MODEL,
        });
        if ((await loop.exited) !== 0) throw new Error(`sequential loop failed:\n${loop.output()}`);
        const answer = JSON.parse(loop.stdout().trim()) as { images: number; seconds: number };
        sequentialRate.push((answer.images / answer.seconds) * 60);
        speedup.push(endToEnd.at(-1)! / sequentialRate.at(-1)!);
        console.error(
          `run ${r + 1}: ${inWindow} requests in ${minutes} min (${(share.at(-1)! * 100).toFixed(1)} % of RPM), ${limited} 429s, ` +
            `${endToEnd.at(-1)!.toFixed(0)}/min end to end, sequential ${sequentialRate.at(-1)!.toFixed(1)}/min`,
        );
      }
      return {
        metrics: [
          { name: "requests in measured minutes / RPM", unit: "%", samples: share.map((x) => x * 100) },
          { name: "busiest sliding minute", unit: "requests", samples: busiest },
          { name: "input tokens / TPM", unit: "%", samples: tpmShare.map((x) => x * 100) },
          { name: "429 answers", unit: "requests", samples: count429 },
          { name: "429 share", unit: "%", samples: rate429.map((x) => x * 100) },
          { name: "tessera end to end", unit: "images/min", samples: endToEnd },
          { name: "sequential loop", unit: "images/min", samples: sequentialRate },
          { name: "speed-up over sequential", unit: "x", samples: speedup },
        ],
        targets: [
          { metric: "requests in measured minutes / RPM", op: ">=", value: 95, label: ">= 95 %" },
          { metric: "429 share", op: "<=", value: 1, label: "<= 1 %" },
          { metric: "speed-up over sequential", op: ">=", value: 10, label: ">= 10x" },
        ],
        conditions: {
          images,
          imageSize: "320x240 JPEG (258 tokens)",
          emulator: `latency ${latency * 0.9}-${latency * 1.1} ms, RPM ${rpm}, TPM ${tpm}`,
          fleet: `${workers} worker processes x concurrency ${concurrency}, TESSERA_RPM=${rpm}, TESSERA_TPM=${tpm}`,
          share: `successful requests arriving in the first ${minutes} whole minutes from the first, over ${minutes} x RPM`,
          endToEnd:
            "images / wall clock of `tessera run --wait` (scan, the last partial minute and the manifest included)",
          sequential: `${sequential} images through the bare loop at concurrency 1 (S3 get -> generateContent -> S3 put)`,
        },
      };
    } finally {
      await bench.close();
    }
  },
});
