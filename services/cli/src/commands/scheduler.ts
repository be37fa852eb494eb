import type { Command } from "commander";
import { createConsumer, ScheduleStore } from "@tessera/queue";
import { fireSchedule } from "@tessera/ingest";
import { configFrom, openContext, type CommonFlags } from "../context.ts";

/**
 * `tessera scheduler`: consumes the "schedules" queue, where BullMQ's job schedulers put one job
 * per firing, and starts each firing's incremental run (the scan runs here). Run one or several:
 * a firing is one job, taken by one of them.
 */
export function registerScheduler(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("scheduler")
      .description("start the runs of schedules when they fire (run one or more; each firing runs once)"),
  ).action(async (flags: CommonFlags) => {
    const config = configFrom(flags);
    const ctx = await openContext(config, "worker");
    const schedules = new ScheduleStore(
      ctx.redis,
      config.env.TESSERA_PREFIX,
      ctx.producer.queue("schedules"),
    );
    const consumer = createConsumer({
      connection: ctx.redis,
      prefix: config.env.TESSERA_PREFIX,
      queue: "schedules",
      concurrency: 2,
      lockDurationMs: config.env.TESSERA_JOB_LOCK_MS,
      handlers: {
        "scheduled-run": async (payload, job) => {
          const firedAt = new Date(job.opts.prevMillis ?? job.timestamp);
          const outcome = await fireSchedule(
            {
              runs: ctx.runs,
              producer: ctx.producer,
              storage: ctx.storage,
              log: ctx.log.child({ jobId: job.id }),
              now: () => new Date(),
              requestLimits: config.requestLimits,
              probeConcurrency: config.env.TESSERA_PROBE_CONCURRENCY,
              schedules,
              prices: config.prices,
            },
            payload.scheduleId,
            firedAt,
          );
          ctx.log.info("schedule fired", { scheduleId: payload.scheduleId, jobId: job.id, ...outcome });
        },
      },
    });
    consumer.on("error", (err) => ctx.log.error("scheduler error", { error: err.message }));
    consumer.run().catch((err: unknown) => ctx.log.error("scheduler stopped", { error: String(err) }));
    await consumer.waitUntilReady();
    ctx.log.info("scheduler started", { prefix: config.env.TESSERA_PREFIX, pid: process.pid });
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    await consumer.close();
    await ctx.close();
  });
}
