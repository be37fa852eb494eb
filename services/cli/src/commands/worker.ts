import type { Command } from "commander";
import { FilesCache } from "@tessera/gemini";
import { FleetRateLimiter, ImageLeases } from "@tessera/queue";
import { instrumentGemini, serveMetrics, startWorker, WorkerMetrics } from "@tessera/worker";
import { configFrom, geminiClientFor, openContext, type CommonFlags } from "../context.ts";

interface WorkerFlags extends CommonFlags {
  concurrency?: string;
}

export function registerWorker(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("worker")
      .description("annotate queued images until stopped (SIGTERM/SIGINT finish in-flight requests first)")
      .option("--concurrency <n>", "images in flight in this process (default: TESSERA_CONCURRENCY or 4)"),
  ).action(async (flags: WorkerFlags) => {
    const config = configFrom(flags, { TESSERA_CONCURRENCY: flags.concurrency });
    const metrics = config.env.TESSERA_METRICS_PORT === undefined ? undefined : new WorkerMetrics();
    const gemini = geminiClientFor(config);
    // Spans (when OTEL_EXPORTER_OTLP_ENDPOINT is set) and metrics (when asked) per Gemini call.
    instrumentGemini(gemini, metrics);
    const ctx = await openContext(config, "worker");
    const metricsServer =
      metrics && config.env.TESSERA_METRICS_PORT !== undefined
        ? await serveMetrics(metrics, config.env.TESSERA_METRICS_PORT, config.env.TESSERA_METRICS_HOST)
        : undefined;
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
        ...(metrics === undefined ? {} : { metrics }),
      },
      {
        connection: ctx.redis,
        prefix: config.env.TESSERA_PREFIX,
        concurrency: config.env.TESSERA_CONCURRENCY,
        lockDurationMs: config.env.TESSERA_JOB_LOCK_MS,
      },
    );
    ctx.log.info("worker started", {
      concurrency: config.env.TESSERA_CONCURRENCY,
      prefix: config.env.TESSERA_PREFIX,
      ...(metricsServer === undefined
        ? {}
        : { metrics: `${config.env.TESSERA_METRICS_HOST}:${config.env.TESSERA_METRICS_PORT}` }),
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        ctx.log.info("shutting down", { signal });
        resolve();
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    await worker.close();
    metricsServer?.close();
    await ctx.close();
  });
}
