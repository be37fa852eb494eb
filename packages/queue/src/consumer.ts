import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import {
  InvalidPayloadError,
  jobsOfQueue,
  parsePayload,
  queueRetention,
  type JobName,
  type JobPayload,
  type QueueName,
} from "./catalog.ts";
import { bullPrefix } from "./keys.ts";
import { queueTelemetry } from "./telemetry.ts";

/** `token` is the job's lock token, needed to move the job (e.g. `job.moveToDelayed`). */
export type Handler<N extends JobName> = (
  payload: JobPayload<N>,
  job: Job,
  token: string | undefined,
) => Promise<void>;
export type Handlers = { [N in JobName]: Handler<N> };

export interface ConsumerOptions {
  connection: Redis;
  prefix: string;
  queue: QueueName;
  handlers: Partial<Handlers>;
  concurrency: number;
  /** How long a crashed worker's job stays locked before it is retried elsewhere. */
  lockDurationMs?: number;
}

export class MissingHandlerError extends Error {
  constructor(queue: string, names: string[]) {
    super(`refusing to start a worker on queue "${queue}": no handler for job(s) ${names.join(", ")}`);
    this.name = "MissingHandlerError";
  }
}

/**
 * A BullMQ worker for one queue. It refuses to start unless every job name the catalog routes to
 * that queue has a handler, and validates each payload before the handler sees it (a payload
 * that does not parse will never parse: no retry).
 */
export function createConsumer(options: ConsumerOptions): Worker {
  const names = jobsOfQueue(options.queue);
  const missing = names.filter((name) => options.handlers[name] === undefined);
  if (missing.length > 0) throw new MissingHandlerError(options.queue, missing);

  return new Worker(
    options.queue,
    async (job: Job, token?: string) => {
      const name = job.name as JobName;
      if (!names.includes(name))
        throw new UnrecoverableError(
          `job name "${job.name}" is not in the catalog for queue ${options.queue}`,
        );
      let payload: JobPayload<typeof name>;
      try {
        payload = parsePayload(name, job.data);
      } catch (err) {
        if (err instanceof InvalidPayloadError) throw new UnrecoverableError(err.message);
        throw err;
      }
      const handler = options.handlers[name] as Handler<typeof name>;
      await handler(payload, job, token);
    },
    {
      connection: options.connection,
      prefix: bullPrefix(options.prefix),
      concurrency: options.concurrency,
      // Locks are renewed every half-period while a job runs, so this bounds how long a crashed
      // worker's jobs wait before another worker takes them, not how long a call may take.
      lockDuration: options.lockDurationMs ?? 60_000,
      stalledInterval: options.lockDurationMs ?? 60_000,
      ...queueRetention[options.queue],
      autorun: false,
      ...queueTelemetry(),
    },
  );
}
