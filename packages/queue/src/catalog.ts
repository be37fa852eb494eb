import type { JobsOptions } from "bullmq";
import { z } from "zod";

const runId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/**
 * The job catalog: every job Tessera enqueues, its queue, its payload schema and its retry
 * settings. Payloads are references (keys, ETags), never image bytes, so a job stays a few
 * hundred bytes whatever the image size.
 */
export const jobCatalog = {
  annotate: {
    queue: "annotate",
    payload: z.object({
      runId,
      key: z.string().min(1),
      etag: z.string(),
      size: z.number().int().nonnegative(),
      mime: z.string(),
      /** Display size from the header probe, so budget and rate limits are taken before the download. */
      width: z.number().int().positive().optional(),
      height: z.number().int().positive().optional(),
    }),
    options: {
      attempts: 5,
      backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 10_000 },
    },
  },
  "finalize-run": {
    queue: "runs",
    payload: z.object({ runId }),
    options: {
      attempts: 10,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 1_000 },
    },
  },
  /** Made by a BullMQ job scheduler at each firing of a schedule; starts an incremental run. */
  "scheduled-run": {
    queue: "schedules",
    payload: z.object({ scheduleId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/) }),
    options: {
      attempts: 3,
      backoff: { type: "exponential", delay: 5_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 1_000 },
    },
  },
} as const satisfies Record<string, { queue: string; payload: z.ZodType; options: JobsOptions }>;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]["payload"]>;
export type QueueName = (typeof jobCatalog)[JobName]["queue"];
export const QUEUE_NAMES = [...new Set(Object.values(jobCatalog).map((j) => j.queue))] as QueueName[];

export function jobsOfQueue(queue: QueueName): JobName[] {
  return (Object.keys(jobCatalog) as JobName[]).filter((name) => jobCatalog[name].queue === queue);
}

export class InvalidPayloadError extends Error {
  constructor(name: string, error: z.ZodError) {
    super(`invalid ${name} payload: ${z.prettifyError(error).replace(/\n/g, "; ")}`);
    this.name = "InvalidPayloadError";
  }
}

export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  const parsed = jobCatalog[name].payload.safeParse(data);
  if (!parsed.success) throw new InvalidPayloadError(name, parsed.error);
  return parsed.data as JobPayload<N>;
}
