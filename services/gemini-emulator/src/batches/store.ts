// Batch jobs per API key. A batch's state is read off the emulator clock (PENDING, then RUNNING,
// then done), so tests step through it with clock.advance instead of sleeping. Its requests run
// when someone first looks at it after it is due, and the outcome is kept from then on.
import type { Clock } from "../files/clock.ts";
import { randomId } from "../files/ids.ts";
import type { Page, PageRequest } from "../files/paging.ts";
import { paginate } from "../files/paging.ts";
import type { FileStore } from "../files/store.ts";
import type { GenerateContentResponse } from "../generate.ts";
import type { ModelRunner, StatusJson } from "./execute.ts";
import { statusOf } from "./execute.ts";
import type { BatchRequest } from "./input.ts";
import { parseJsonl } from "./input.ts";
import { batchNotFound } from "./errors.ts";

const HOUR = 60 * 60 * 1000;

export interface BatchOptions {
  /** How long a new batch stays PENDING, on the emulator clock. */
  pendingMs?: number;
  /** How long it then stays RUNNING before its results are ready. */
  runningMs?: number;
  /** A batch not done this long after creation ends EXPIRED. The API: 48 h. */
  ttlMs?: number;
}

export const BATCH_DEFAULTS = {
  // Long enough to see PENDING and RUNNING when polling, short enough for a demo.
  pendingMs: 50,
  runningMs: 50,
  ttlMs: 48 * HOUR,
  pageSize: 10,
  maxPageSize: 100,
} as const;

export type BatchState =
  | "BATCH_STATE_PENDING"
  | "BATCH_STATE_RUNNING"
  | "BATCH_STATE_SUCCEEDED"
  | "BATCH_STATE_FAILED"
  | "BATCH_STATE_CANCELLED"
  | "BATCH_STATE_EXPIRED";

export type RequestOutcome = { response: GenerateContentResponse } | { error: StatusJson };

export type BatchResult =
  | { ok: true; outcomes: RequestOutcome[]; requests: BatchRequest[]; responsesFile: string | undefined }
  | { ok: false; error: StatusJson };

export type BatchSource =
  { kind: "inline"; requests: BatchRequest[] } | { kind: "file"; fileName: string; bytes: Buffer };

export interface Batch {
  id: string;
  seq: number;
  owner: string;
  model: string;
  displayName: string | undefined;
  source: BatchSource;
  requestCount: number;
  /** Hosts whose file uris name this emulator's files, as seen when the batch was created. */
  ownHosts: readonly string[];
  createTime: number;
  cancelTime: number | undefined;
  /** Set once the batch has run; `running` is the run in progress. */
  result: BatchResult | undefined;
  running: Promise<BatchResult> | undefined;
}

export interface NewBatch {
  owner: string;
  model: string;
  displayName: string | undefined;
  source: BatchSource;
  requestCount: number;
  ownHosts: readonly string[];
}

/** How many requests of one batch are answered at once; each already decodes its images in parallel. */
const REQUEST_CONCURRENCY = 2;

export class BatchStore {
  readonly timing: Required<BatchOptions>;
  readonly #clock: Clock;
  readonly #files: FileStore;
  readonly #run: ModelRunner;
  readonly #batches = new Map<string, Batch>();
  #seq = 0;

  constructor(clock: Clock, files: FileStore, run: ModelRunner, options: BatchOptions = {}) {
    this.#clock = clock;
    this.#files = files;
    this.#run = run;
    this.timing = {
      pendingMs: options.pendingMs ?? BATCH_DEFAULTS.pendingMs,
      runningMs: options.runningMs ?? BATCH_DEFAULTS.runningMs,
      ttlMs: options.ttlMs ?? BATCH_DEFAULTS.ttlMs,
    };
    for (const [name, value] of Object.entries(this.timing)) {
      if (!(Number.isFinite(value) && value >= 0)) {
        throw new RangeError(`batches.${name} must be a number >= 0, got ${value}`);
      }
    }
  }

  now(): number {
    return this.#clock.now();
  }

  create(batch: NewBatch): Batch {
    let id = randomId(36);
    while (this.#batches.has(id)) id = randomId(36);
    const created: Batch = {
      ...batch,
      id,
      seq: (this.#seq += 1),
      createTime: this.now(),
      cancelTime: undefined,
      result: undefined,
      running: undefined,
    };
    this.#batches.set(id, created);
    return created;
  }

  get(owner: string, id: string): Batch {
    const batch = this.#batches.get(id);
    if (batch === undefined || batch.owner !== owner) throw batchNotFound();
    return batch;
  }

  list(owner: string, page: PageRequest): Page<Batch> {
    const mine = [...this.#batches.values()].filter((batch) => batch.owner === owner);
    return paginate(
      mine.sort((a, b) => b.seq - a.seq),
      page,
    );
  }

  /** All keys together, for the admin snapshot; a due batch nobody has looked at yet counts as running. */
  totals(): { count: number; byState: Record<string, number> } {
    const byState: Record<string, number> = {};
    for (const batch of this.#batches.values()) {
      const state = this.stateOf(batch);
      byState[state] = (byState[state] ?? 0) + 1;
    }
    return { count: this.#batches.size, byState };
  }

  /** Stops a batch that has not finished; a finished one stays as it is. */
  async cancel(owner: string, id: string): Promise<void> {
    const batch = this.get(owner, id);
    // A batch that is due but nobody has looked at yet has finished: it runs now, not cancels.
    await this.settle(batch);
    const state = this.stateOf(batch);
    if (state === "BATCH_STATE_PENDING" || state === "BATCH_STATE_RUNNING") batch.cancelTime = this.now();
  }

  delete(owner: string, id: string): void {
    this.get(owner, id);
    this.#batches.delete(id);
  }

  /** When the requests' results are due: creation + pending + running. */
  doneAt(batch: Batch): number {
    return batch.createTime + this.timing.pendingMs + this.timing.runningMs;
  }

  expiresAt(batch: Batch): number {
    return batch.createTime + this.timing.ttlMs;
  }

  /** For a batch that is due, `settle` must have run first to tell SUCCEEDED from FAILED. */
  stateOf(batch: Batch): BatchState {
    if (batch.cancelTime !== undefined) return "BATCH_STATE_CANCELLED";
    const now = this.now();
    const done = this.doneAt(batch);
    if (done >= this.expiresAt(batch) && now >= this.expiresAt(batch)) return "BATCH_STATE_EXPIRED";
    if (now < batch.createTime + this.timing.pendingMs) return "BATCH_STATE_PENDING";
    if (now < done) return "BATCH_STATE_RUNNING";
    if (batch.result === undefined) return "BATCH_STATE_RUNNING";
    return batch.result.ok ? "BATCH_STATE_SUCCEEDED" : "BATCH_STATE_FAILED";
  }

  /** When the state last changed. */
  changedAt(batch: Batch): number {
    const state = this.stateOf(batch);
    switch (state) {
      case "BATCH_STATE_PENDING":
        return batch.createTime;
      case "BATCH_STATE_RUNNING":
        return batch.createTime + this.timing.pendingMs;
      case "BATCH_STATE_SUCCEEDED":
      case "BATCH_STATE_FAILED":
        return this.doneAt(batch);
      case "BATCH_STATE_CANCELLED":
        return batch.cancelTime ?? batch.createTime;
      case "BATCH_STATE_EXPIRED":
        return this.expiresAt(batch);
    }
  }

  /** Runs the batch if it is due and has not run yet; concurrent callers share the one run. */
  async settle(batch: Batch): Promise<void> {
    if (batch.result !== undefined || batch.cancelTime !== undefined) return;
    const now = this.now();
    const done = this.doneAt(batch);
    if (now < done || done >= this.expiresAt(batch)) return;
    batch.running ??= this.#execute(batch);
    batch.result = await batch.running;
    batch.running = undefined;
  }

  async #execute(batch: Batch): Promise<BatchResult> {
    let requests: BatchRequest[];
    try {
      requests =
        batch.source.kind === "inline"
          ? batch.source.requests
          : parseJsonl(batch.source.bytes, batch.source.fileName);
    } catch (error) {
      return { ok: false, error: statusOf(error) };
    }
    const outcomes = await mapLimit(requests, REQUEST_CONCURRENCY, async (item) => {
      try {
        return { response: await this.#run(batch.owner, batch.model, item.request, batch.ownHosts) };
      } catch (error) {
        return { error: statusOf(error) };
      }
    });
    let responsesFile: string | undefined;
    if (batch.source.kind === "file") {
      const lines = outcomes.map((outcome, index) =>
        JSON.stringify({
          ...(requests[index]?.key === undefined ? {} : { key: requests[index].key }),
          ...outcome,
        }),
      );
      const file = this.#files.add(batch.owner, {
        displayName: `batch-${batch.id}-results`,
        mimeType: "application/jsonl",
        bytes: Buffer.from(lines.map((line) => `${line}\n`).join("")),
        source: "GENERATED",
      });
      responsesFile = `files/${file.id}`;
    }
    return { ok: true, outcomes, requests, responsesFile };
  }
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
