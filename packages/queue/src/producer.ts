import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import {
  jobCatalog,
  parsePayload,
  QUEUE_NAMES,
  type JobName,
  type JobPayload,
  type QueueName,
} from "./catalog.ts";
import { bullPrefix } from "./keys.ts";
import { queueTelemetry } from "./telemetry.ts";

export interface EnqueueItem<N extends JobName> {
  payload: JobPayload<N>;
  /** Deduplicates: BullMQ ignores an add whose id already exists. */
  jobId: string;
}

/**
 * Entries kept in each queue's BullMQ event stream (default 10,000). Tessera reads its own run
 * streams, never BullMQ's, so the stream is only a recent history for debugging: at BullMQ's
 * default it holds ~185 B per job for runs of up to 10,000 jobs, which is a fifth of a queued
 * job's Redis footprint. Every Queue writes this into the queue's meta key on start, so all of
 * Tessera's queues are made here.
 */
export const EVENT_STREAM_MAX_LEN = 1_000;

/** Enqueues catalog jobs, validating each payload before it reaches Redis. */
export type JobOverrides = Partial<Record<JobName, Pick<JobsOptions, "attempts" | "backoff">>>;

export class Producer {
  readonly #queues: Map<QueueName, Queue>;
  readonly #overrides: JobOverrides;

  /** `overrides` lets configuration (e.g. TESSERA_ATTEMPTS) adjust a job's catalog defaults. */
  constructor(connection: Redis, prefix: string, overrides: JobOverrides = {}) {
    this.#overrides = overrides;
    this.#queues = new Map(
      QUEUE_NAMES.map(
        (name) =>
          [
            name,
            new Queue(name, {
              connection,
              prefix: bullPrefix(prefix),
              streams: { events: { maxLen: EVENT_STREAM_MAX_LEN } },
              ...queueTelemetry(),
            }),
          ] as const,
      ),
    );
  }

  queue(name: QueueName): Queue {
    const queue = this.#queues.get(name);
    if (!queue) throw new Error(`no queue ${name}`);
    return queue;
  }

  async add<N extends JobName>(name: N, item: EnqueueItem<N>): Promise<void> {
    await this.addBulk(name, [item]);
  }

  async addBulk<N extends JobName>(name: N, items: EnqueueItem<N>[]): Promise<void> {
    if (items.length === 0) return;
    const spec = jobCatalog[name];
    const jobs = items.map((item) => ({
      name,
      data: parsePayload(name, item.payload),
      opts: { ...spec.options, ...this.#overrides[name], jobId: item.jobId },
    }));
    await this.queue(spec.queue).addBulk(jobs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
  }
}
