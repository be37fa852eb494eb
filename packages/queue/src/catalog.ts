import type { JobsOptions, WorkerOptions } from "bullmq";
import { z } from "zod";

const runId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** A compare set's id: it names the set's annotation file and manifest line. */
export const SET_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Gemini's largest images-per-request figure (3,600): no request carries more. */
export const MAX_IMAGES_PER_JOB = 3_600;

/** One image of a request, by reference: the bytes are read by the worker. */
export const imageRefSchema = z.object({
  key: z.string().min(1),
  etag: z.string(),
  size: z.number().int().nonnegative(),
  mime: z.string(),
  /** Display size from the header probe, so budget and rate limits are taken before the download. */
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** vqa: this image's own question (from --questions), instead of the run's. */
  question: z.string().trim().min(1).max(4000).optional(),
  /** Requests of the run that send this image (compare sets share images): above 1, upload once. */
  uses: z.number().int().positive().optional(),
});
export type ImageRef = z.infer<typeof imageRefSchema>;
const imageRef = imageRefSchema;

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
      /**
       * The images of one request, in the order they are sent: 1 for most tasks, up to the run's
       * --images-per-request for caption and classify, a compare set's members.
       */
      images: z.array(imageRef).min(1).max(MAX_IMAGES_PER_JOB),
      /**
       * A compare set: the images form one item, keyed by the set's id, with one outcome and one
       * annotation. Absent: every image is its own item.
       */
      set: z.object({ id: z.string().regex(SET_ID, "letters, digits, . _ - only (1-128)") }).optional(),
    }),
    options: {
      attempts: 5,
      backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
    },
  },
  "finalize-run": {
    queue: "runs",
    payload: z.object({ runId }),
    options: {
      attempts: 10,
      backoff: { type: "exponential", delay: 1_000 },
    },
  },
  /** Made by a BullMQ job scheduler at each firing of a schedule; starts an incremental run. */
  "scheduled-run": {
    queue: "schedules",
    payload: z.object({ scheduleId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/) }),
    options: {
      attempts: 3,
      backoff: { type: "exponential", delay: 5_000 },
    },
  },
} as const satisfies Record<string, { queue: string; payload: z.ZodType; options: JobsOptions }>;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]["payload"]>;
export type QueueName = (typeof jobCatalog)[JobName]["queue"];

/**
 * How many finished jobs each queue keeps (for inspection in bull-board), applied by the queue's
 * workers instead of being stored in every job's options: that cost ~60 bytes of Redis per queued
 * job, a twentieth of a job's footprint.
 */
export const queueRetention = {
  annotate: { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 10_000 } },
  runs: { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 1_000 } },
  schedules: { removeOnComplete: { count: 1_000 }, removeOnFail: { count: 1_000 } },
} as const satisfies Record<QueueName, Pick<WorkerOptions, "removeOnComplete" | "removeOnFail">>;
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
