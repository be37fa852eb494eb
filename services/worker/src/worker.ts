import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { createConsumer, RunNotFoundError, sweepFinalizing } from "@tessera/queue";
import { recordUnexpectedFailure, RetryLater } from "./annotate.ts";
import type { WorkerDeps } from "./deps.ts";
import { finalizeRun } from "./finalize.ts";
import { annotateLeased, LeaseHeld } from "./leased.ts";
import { unitsOf } from "./units.ts";

export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** How long shutdown waits for in-flight Gemini calls before abandoning them to be retried. */
  shutdownTimeoutMs?: number;
  /** See TESSERA_JOB_LOCK_MS. */
  lockDurationMs?: number;
}

export interface RunningWorker {
  workers: Worker[];
  close(): Promise<void>;
}

/** Longest wait before a job whose image another worker holds looks again. */
const LEASE_POLL_MS = 2_000;

/** Fallback pause when a 429 carries no RetryInfo. */
const DEFAULT_RATE_LIMIT_MS = 10_000;
/** How often a paused run's jobs come back to see whether it was resumed. */
const PAUSED_RECHECK_MS = 10_000;

function attemptOf(job: Job): { number: number; max: number } {
  return { number: job.attemptsMade + 1, max: job.opts.attempts ?? 1 };
}

/**
 * Starts the annotate and runs queues' consumers in this process. Failure classes map to queue
 * semantics here and nowhere else: a 429 pauses the whole queue for the server's RetryInfo delay
 * without using up an attempt; a transient error is retried with backoff; anything final has
 * been recorded in the manifest, so the job completes.
 */
export async function startWorker(deps: WorkerDeps, options: WorkerOptions): Promise<RunningWorker> {
  const annotateQueue = deps.producer.queue("annotate");
  const annotate = createConsumer({
    connection: options.connection,
    prefix: options.prefix,
    queue: "annotate",
    concurrency: options.concurrency,
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
    handlers: {
      annotate: async (payload, job, token) => {
        const attempt = attemptOf(job);
        if (token !== undefined && (await deps.runs.isPaused(payload.runId))) {
          // Paused by an operator: back to delayed without using an attempt.
          await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
          throw new DelayedError();
        }
        const started = performance.now();
        try {
          const outcomes = await annotateLeased(deps, payload, attempt);
          deps.metrics?.annotated(outcomes, (performance.now() - started) / 1000);
        } catch (err) {
          if (err instanceof LeaseHeld) {
            // Back off until the other worker is done or its lease lapses, looking again at least
            // every few seconds (the holder usually finishes long before its TTL); no attempt is used.
            const jitter = Math.floor(Math.random() * 500);
            const wait = Math.min(err.retryInMs, LEASE_POLL_MS) + 100 + jitter;
            await job.moveToDelayed(Date.now() + wait, token);
            throw new DelayedError();
          }
          const errorClass = err instanceof RetryLater ? err.cause.errorClass : "error";
          const settled = err instanceof RetryLater ? err.settled : undefined;
          deps.metrics?.annotated(
            unitsOf(payload).map((_, i) => settled?.[i] ?? errorClass),
            (performance.now() - started) / 1000,
            errorClass,
          );
          if (err instanceof RetryLater && err.cause.errorClass === "rate_limited") {
            await annotateQueue.rateLimit(err.cause.retryDelayMs ?? DEFAULT_RATE_LIMIT_MS);
            throw Worker.RateLimitError();
          }
          if (err instanceof RunNotFoundError) throw new UnrecoverableError(err.message);
          if (!(err instanceof RetryLater) && attempt.number >= attempt.max) {
            // Out of attempts on an error outside the image's own processing (Redis, storage
            // bookkeeping): record it, or the run would wait for this image forever.
            await recordUnexpectedFailure(deps, payload, attempt.number, err);
          }
          throw err;
        }
      },
    },
  });
  const runs = createConsumer({
    connection: options.connection,
    prefix: options.prefix,
    queue: "runs",
    concurrency: 1,
    ...(options.lockDurationMs === undefined ? {} : { lockDurationMs: options.lockDurationMs }),
    handlers: {
      "finalize-run": async (payload) => {
        await finalizeRun(deps, payload.runId);
      },
    },
  });
  const workers = [annotate, runs];
  for (const worker of workers) {
    worker.on("failed", (job, err) => {
      if (err instanceof UnrecoverableError || err.name === "RateLimitError" || err instanceof DelayedError)
        return;
      deps.log.warn("job attempt failed", { queue: worker.name, jobId: job?.id, error: err.message });
    });
    worker.on("error", (err) => deps.log.error("worker error", { queue: worker.name, error: err.message }));
    worker
      .run()
      .catch((err: unknown) => deps.log.error("worker stopped", { queue: worker.name, error: String(err) }));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // Runs whose last outcome was recorded by a process that died before enqueuing the finalize job.
  const sweep = () =>
    sweepFinalizing(deps.runs, deps.producer).catch((err: unknown) =>
      deps.log.warn("finalize sweep failed", { error: String(err) }),
    );
  await sweep();
  const sweeper = setInterval(() => void sweep(), 60_000);
  sweeper.unref();
  return {
    workers,
    async close() {
      clearInterval(sweeper);
      const timeout = options.shutdownTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const graceful = Promise.all(workers.map((w) => w.close()));
      const expired = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeout);
      });
      const result = await Promise.race([graceful, expired]);
      clearTimeout(timer);
      if (result === "timeout") {
        deps.log.warn("shutdown timed out; in-flight jobs will be retried by another worker");
        await Promise.all(workers.map((w) => w.close(true)));
      }
    },
  };
}
