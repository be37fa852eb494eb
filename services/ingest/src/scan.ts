import pLimit from "p-limit";
import { errorMessage, type ManifestLine, type RunConfig } from "@tessera/core";
import type { EnqueueItem } from "@tessera/queue";
import { AccessDeniedError, InvalidKeyError, type ObjectInfo, type Storage } from "@tessera/storage";
import { createHash } from "node:crypto";
import { estimateRequestTokens, sentSize } from "@tessera/imaging";
import { classifyObject } from "./classify.ts";
import type { IngestDeps } from "./deps.ts";

export interface ScanProgress {
  listed: number;
  images: number;
  skipped: number;
}

/** Figures gathered while scanning, for the run's estimate and `tessera estimate`. */
export interface ScanFigures extends ScanProgress {
  /** Input tokens of every enqueued image's request (image + prompt), by the model's rule. */
  estimatedPromptTokens: number;
  /** Per enqueued image, the same estimate (for min / median / max). */
  imageTokens: number[];
  formats: Record<string, number>;
  /** Skipped objects by reason. */
  skipReasons: Record<string, number>;
  /** Images that fail at the header (truncated, bombs, lying sizes) by reason. */
  brokenReasons: Record<string, number>;
}

export interface ScanOptions {
  /** Keys under this prefix (the run's output inside its source) are not listed. */
  excludedPrefix?: string;
  probeConcurrency?: number;
  onProgress?: (progress: ScanProgress) => void;
}

/** Job ids must be stable (a re-enqueue is ignored) and free of ':' (BullMQ's key separator). */
export function annotateJobId(runId: string, key: string, attempt = 0): string {
  const base = `${runId}-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;
  return attempt === 0 ? base : `${base}-r${attempt}`;
}

const ENQUEUE_BATCH = 500;
/** How often (in objects) a long listing checks whether the run was cancelled. */
const CANCEL_CHECK_EVERY = 1_000;

/** Was this recorded outcome about an image (counted in `images`) or about another object? */
function countsAsImage(line: ManifestLine): boolean {
  return !(line.status === "skipped" && line.error?.class === "not_an_image");
}

/**
 * Where a scan's decisions go: a run records and enqueues them in Redis; `tessera estimate`
 * only counts them.
 */
export interface ScanSink {
  /** An outcome recorded earlier (a resumed run), which the scan then leaves alone. */
  earlierOutcome(key: string): Promise<ManifestLine | undefined>;
  record(line: ManifestLine): Promise<void>;
  enqueue(items: EnqueueItem<"annotate">[]): Promise<void>;
  /** Asked every thousand objects; true stops the listing. */
  cancelled(): Promise<boolean>;
}

/** The sink of a real run: outcomes and jobs in Redis. */
export function runSink(deps: IngestDeps, runId: string): ScanSink {
  return {
    earlierOutcome: (key) => deps.runs.itemOutcome(runId, key),
    record: async (line) => {
      await deps.runs.recordItem(runId, line);
    },
    enqueue: (items) => deps.producer.addBulk("annotate", items),
    cancelled: async () => (await deps.runs.get(runId))?.cancelRequested === true,
  };
}

/** A sink that changes nothing: for estimates. */
export const dryRunSink: ScanSink = {
  earlierOutcome: () => Promise.resolve(undefined),
  record: () => Promise.resolve(),
  enqueue: () => Promise.resolve(),
  cancelled: () => Promise.resolve(false),
};

/**
 * Lists the source and gives every object an outcome or a job: images are enqueued, anything
 * else is recorded as skipped, unreadable or empty images as failed. Objects that already have an
 * outcome (a resumed run) are counted but not touched, so scanning twice enqueues nothing twice.
 * Returns the number of images, which is final for the run, and the figures of the estimate.
 */
export async function scanSource(
  sink: ScanSink,
  config: Pick<RunConfig, "runId" | "model" | "detail" | "convert"> & {
    /** The texts each request sends (see requestTexts), for its token estimate. */
    texts: readonly string[];
  },
  source: Storage,
  now: () => Date,
  options: ScanOptions = {},
): Promise<ScanFigures & { cancelled: boolean }> {
  const limit = pLimit(options.probeConcurrency ?? 16);
  const progress: ScanFigures = {
    listed: 0,
    images: 0,
    skipped: 0,
    estimatedPromptTokens: 0,
    imageTokens: [],
    formats: {},
    skipReasons: {},
    brokenReasons: {},
  };
  let batch: EnqueueItem<"annotate">[] = [];
  let pending: Promise<void>[] = [];
  let cancelled = false;

  const flush = async () => {
    const items = batch;
    batch = [];
    if (items.length > 0) await sink.enqueue(items);
  };

  const record = (line: ManifestLine) => sink.record(line);

  const handle = async (object: ObjectInfo) => {
    const earlier = await sink.earlierOutcome(object.key);
    if (earlier) {
      if (countsAsImage(earlier)) progress.images++;
      else progress.skipped++;
      return;
    }
    const at = now().toISOString();
    let classified: Awaited<ReturnType<typeof classifyObject>>;
    try {
      classified = await classifyObject(source, object);
    } catch (err) {
      // One unreadable object must not fail the run: it counts as an image that failed. A key
      // Tessera refuses to address (`..`, a leading slash) or a refused read is final (`retry
      // --failed` after fixing the permission); anything else may pass.
      progress.images++;
      const errorClass =
        err instanceof InvalidKeyError || err instanceof AccessDeniedError ? "permanent" : "transient";
      await record({
        key: object.key,
        etag: object.etag,
        status: "failed",
        error: { class: errorClass, message: `could not read the object's header: ${errorMessage(err)}` },
        at,
      });
      return;
    }
    switch (classified.kind) {
      case "broken":
        progress.images++;
        progress.brokenReasons[classified.reason] = (progress.brokenReasons[classified.reason] ?? 0) + 1;
        await record({
          key: object.key,
          etag: object.etag,
          status: "failed",
          error: { class: "bad_image", message: classified.reason },
          at,
        });
        return;
      case "skipped":
        progress.skipped++;
        progress.skipReasons[classified.reason] = (progress.skipReasons[classified.reason] ?? 0) + 1;
        await record({
          key: object.key,
          etag: object.etag,
          status: "skipped",
          error: { class: "not_an_image", message: classified.reason },
          at,
        });
        return;
      case "image": {
        progress.images++;
        const { probe } = classified;
        const display = { width: probe.displayWidth, height: probe.displayHeight };
        const tokens = estimateRequestTokens(config.model, [sentSize(display, config.detail)], config.texts);
        progress.estimatedPromptTokens += tokens;
        progress.imageTokens.push(tokens);
        progress.formats[probe.format] = (progress.formats[probe.format] ?? 0) + 1;
        batch.push({
          jobId: annotateJobId(config.runId, object.key),
          payload: {
            runId: config.runId,
            key: object.key,
            etag: object.etag,
            size: object.size,
            mime: probe.mime,
            width: display.width,
            height: display.height,
          },
        });
        if (batch.length >= ENQUEUE_BATCH) await flush();
        return;
      }
    }
  };

  const excluded = options.excludedPrefix;
  try {
    for await (const object of source.list()) {
      if (excluded !== undefined && object.key.startsWith(excluded)) continue;
      progress.listed++;
      pending.push(limit(() => handle(object)));
      // Bounded memory on huge listings, and a chance to notice a cancel.
      if (pending.length >= CANCEL_CHECK_EVERY) {
        await Promise.all(pending);
        pending = [];
        options.onProgress?.({ listed: progress.listed, images: progress.images, skipped: progress.skipped });
        if (await sink.cancelled()) {
          cancelled = true;
          break;
        }
      }
    }
  } catch (err) {
    // Let in-flight probes settle before the caller marks the run failed.
    await Promise.allSettled(pending);
    throw err;
  }
  await Promise.all(pending);
  await flush();
  options.onProgress?.({ listed: progress.listed, images: progress.images, skipped: progress.skipped });
  return { ...progress, cancelled };
}
