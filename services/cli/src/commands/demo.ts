import { readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { FilesCache } from "@tessera/gemini";
import { FleetRateLimiter, ImageLeases } from "@tessera/queue";
import { UsageError } from "@tessera/core";
import { annotationFileSchema } from "@tessera/tasks";
import { startEmulator } from "@tessera/gemini-emulator";
import { defaultMaxOutputTokens, startRun } from "@tessera/ingest";
import { startWorker } from "@tessera/worker";
import { startDashboard } from "@tessera/dashboard";
import { configFrom, dashboardDeps, geminiClientFor, openContext, type CommonFlags } from "../context.ts";
import { writeDemoImages } from "../demo-images.ts";
import { redisAnswers, startLocalRedis } from "../local-redis.ts";
import { summaryText } from "../progress.ts";
import { waitForRun } from "../wait.ts";

interface DemoFlags extends CommonFlags {
  dir: string;
  keepDashboard?: boolean;
}

export function registerDemo(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("demo")
      .description(
        "caption sample images end to end: emulator, worker and a file:// run, all in this process",
      )
      .option("--dir <path>", "where the sample images and annotations are written", "tessera-demo")
      .option("--keep-dashboard", "keep the demo's dashboard (127.0.0.1, no token) open until Ctrl-C"),
  ).action(async (flags: DemoFlags) => {
    const dir = resolve(flags.dir);
    const base = configFrom(flags);
    let redisUrl = base.env.REDIS_URL;
    let localRedis: Awaited<ReturnType<typeof startLocalRedis>> | undefined;
    if (!(await redisAnswers(redisUrl))) {
      console.error(
        `Redis does not answer at ${redisUrl}; starting a throwaway redis-server for the demo...`,
      );
      try {
        localRedis = await startLocalRedis();
      } catch (err) {
        throw new UsageError(
          `no Redis: ${redisUrl} does not answer and ${(err as Error).message}. ` +
            "Install and start Redis (apt-get install redis-server) or set REDIS_URL.",
        );
      }
      redisUrl = localRedis.url;
    }

    const emulator = await startEmulator({ port: 0 });
    const config = configFrom(
      { ...flags, redisUrl, prefix: flags.prefix ?? "tessera-demo", logLevel: flags.logLevel ?? "error" },
      { GOOGLE_GEMINI_BASE_URL: emulator.url, GEMINI_API_KEY: "tessera-demo" },
    );
    const ctx = await openContext(config, "worker");
    const gemini = geminiClientFor(config);
    const worker = await startWorker(
      {
        runs: ctx.runs,
        producer: ctx.producer,
        gemini,
        files: new FilesCache({ redis: ctx.redis, prefix: config.env.TESSERA_PREFIX, client: gemini }),
        storage: ctx.storage,
        log: ctx.log,
        limiter: new FleetRateLimiter(ctx.redis, config.env.TESSERA_PREFIX, config.rateLimits),
        leases: new ImageLeases(ctx.redis, config.env.TESSERA_PREFIX, config.env.TESSERA_JOB_LOCK_MS),
        maxImageBytes: config.env.TESSERA_MAX_IMAGE_BYTES,
        maxSourceBytes: config.env.TESSERA_MAX_SOURCE_BYTES,
        prices: config.prices,
        now: () => new Date(),
      },
      {
        connection: ctx.redis,
        prefix: config.env.TESSERA_PREFIX,
        concurrency: config.env.TESSERA_CONCURRENCY,
      },
    );
    // Loopback only and read-only: the dev mode the dashboard allows without a token.
    const dashboard = await startDashboard(dashboardDeps(ctx), {
      host: "127.0.0.1",
      port: 0,
      token: undefined,
      dev: true,
      actions: false,
    });
    try {
      console.error(
        `dashboard:  ${dashboard.url}  (live while the demo runs; --keep-dashboard keeps it open)`,
      );
      const images = resolve(dir, "images");
      const out = resolve(dir, "annotations");
      await rm(images, { recursive: true, force: true });
      const written = await writeDemoImages(images);
      console.error(`wrote ${written} sample files to ${images}`);
      console.error(`Gemini emulator at ${emulator.url}; Redis at ${redisUrl}`);
      const source = pathToFileURL(images).href;
      const target = pathToFileURL(out).href;
      const started = await startRun(
        { runs: ctx.runs, producer: ctx.producer, storage: ctx.storage, log: ctx.log, now: () => new Date() },
        {
          source,
          out: target,
          task: "caption",
          model: config.env.GEMINI_MODEL,
          maxOutputTokens:
            config.env.TESSERA_MAX_OUTPUT_TOKENS ??
            defaultMaxOutputTokens("caption", config.env.GEMINI_MODEL),
          detail: "standard",
          convert: "convert",
          prices: config.prices,
        },
      );
      const run = await waitForRun(ctx.runs, started.runId);
      console.log(summaryText(run, await ctx.runs.recentFailures(run.runId)));
      const manifest = resolve(out, run.runId, "manifest.jsonl");
      console.log(`\nannotations: ${resolve(out, run.runId, "annotations")}/`);
      console.log(`manifest:    ${manifest}`);
      const sample = resolve(out, run.runId, "annotations", "misc", "red-square.png.json");
      const annotation = annotationFileSchema.safeParse(
        JSON.parse(await readFile(sample, "utf8").catch(() => "null")),
      );
      if (annotation.success && annotation.data.task === "caption") {
        console.log(`example:     misc/red-square.png -> "${annotation.data.result.caption}"`);
      }
      console.log(
        `\nsame run from the CLI: pnpm tessera run ${source} --out ${target} --wait  (with a worker and GOOGLE_GEMINI_BASE_URL set)`,
      );
      if (run.status !== "completed") process.exitCode = 1;
      if (flags.keepDashboard) {
        console.log(`\ndashboard:   ${dashboard.url}/runs/${run.runId}  (Ctrl-C to stop)`);
        await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
      }
    } finally {
      await dashboard.close();
      await worker.close();
      await ctx.close();
      await emulator.close();
      await localRedis?.stop();
    }
  });
}
