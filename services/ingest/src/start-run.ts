import { createHash } from "node:crypto";
import pLimit from "p-limit";
import {
  DEFAULT_CAPTION_PROMPT,
  UsageError,
  errorMessage,
  newRunId,
  type RunConfig,
  type Task,
} from "@tessera/core";
import type { EnqueueItem } from "@tessera/queue";
import { isUnder, type ObjectInfo } from "@tessera/storage";
import { priceFor, UnknownPriceError, type ModelPrice } from "@tessera/config";
import { classifyObject } from "./classify.ts";
import type { IngestDeps } from "./deps.ts";

export interface RunRequest {
  source: string;
  out: string;
  task: Task;
  model: string;
  prompt?: string;
  runId?: string;
  maxOutputTokens: number;
  budget?: { maxTokens?: number; maxCostUsd?: number };
  /** Needed to check a cost budget can be priced before anything is spent. */
  prices: Readonly<Record<string, ModelPrice>>;
  /** Ranged header reads in flight while listing. */
  probeConcurrency?: number;
  onProgress?: (progress: { listed: number; images: number; skipped: number }) => void;
}

export interface RunStarted {
  runId: string;
  images: number;
  skipped: number;
}

/** Job ids must be stable (a re-enqueue is ignored) and free of ':' (BullMQ's key separator). */
export function annotateJobId(runId: string, key: string): string {
  return `${runId}-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;
}

const ENQUEUE_BATCH = 500;

/**
 * Starts a run: checks both locations, lists the source (streaming), recognises images by their
 * bytes, records everything else as skipped and enqueues one annotate job per image. Nothing is
 * enqueued when a location is wrong; a run's own outputs are never scanned.
 */
export async function startRun(deps: IngestDeps, request: RunRequest): Promise<RunStarted> {
  const source = deps.storage(request.source);
  const out = deps.storage(request.out);
  await source.checkAccess();
  await out.checkAccess({ write: true });
  const excluded = isUnder(source.location, out.location);

  if (request.budget?.maxCostUsd !== undefined) {
    try {
      priceFor(request.prices, request.model);
    } catch (err) {
      if (err instanceof UnknownPriceError) throw new UsageError(`--max-cost: ${err.message}`);
      throw err;
    }
  }

  const listing = source.list()[Symbol.asyncIterator]();
  const first = await listing.next();
  if (first.done) throw new UsageError(`no objects under ${source.describe()}: nothing to annotate`);

  const now = deps.now();
  const config: RunConfig = {
    runId: request.runId ?? newRunId(now),
    task: request.task,
    model: request.model,
    prompt: request.prompt ?? DEFAULT_CAPTION_PROMPT,
    source: request.source,
    out: request.out,
    createdAt: now.toISOString(),
    maxOutputTokens: request.maxOutputTokens,
    ...(request.budget?.maxTokens === undefined ? {} : { budgetMaxTokens: request.budget.maxTokens }),
    ...(request.budget?.maxCostUsd === undefined
      ? {}
      : { budgetMaxCostMicros: Math.floor(request.budget.maxCostUsd * 1e6) }),
  };
  await deps.runs.create(config);
  const log = deps.log.child({ runId: config.runId });
  log.info("run created", { source: source.describe(), out: out.describe() });

  const limit = pLimit(request.probeConcurrency ?? 16);
  let listed = 0;
  let images = 0;
  let skipped = 0;
  let batch: EnqueueItem<"annotate">[] = [];
  const pending: Promise<void>[] = [];

  const flush = async () => {
    const items = batch;
    batch = [];
    await deps.producer.addBulk("annotate", items);
  };

  const handle = async (object: ObjectInfo) => {
    let classified: Awaited<ReturnType<typeof classifyObject>>;
    try {
      classified = await classifyObject(source, object);
    } catch (err) {
      // One unreadable object must not fail the run: it counts as an image that failed.
      images++;
      await deps.runs.recordItem(config.runId, {
        key: object.key,
        etag: object.etag,
        status: "failed",
        error: { class: "transient", message: `could not read the object's header: ${errorMessage(err)}` },
        at: deps.now().toISOString(),
      });
      return;
    }
    if (classified.kind === "broken") {
      images++;
      await deps.runs.recordItem(config.runId, {
        key: object.key,
        etag: object.etag,
        status: "failed",
        error: { class: "bad_image", message: classified.reason },
        at: deps.now().toISOString(),
      });
      return;
    }
    if (classified.kind === "skipped") {
      skipped++;
      await deps.runs.recordItem(config.runId, {
        key: object.key,
        etag: object.etag,
        status: "skipped",
        error: { class: "not_an_image", message: classified.reason },
        at: deps.now().toISOString(),
      });
      return;
    }
    images++;
    batch.push({
      jobId: annotateJobId(config.runId, object.key),
      payload: {
        runId: config.runId,
        key: object.key,
        etag: object.etag,
        size: object.size,
        mime: classified.mime,
      },
    });
    if (batch.length >= ENQUEUE_BATCH) await flush();
  };

  try {
    for (let next: IteratorResult<ObjectInfo> = first; !next.done; next = await listing.next()) {
      const object = next.value;
      if (
        excluded !== undefined &&
        (object.key === excluded || object.key.startsWith(excluded.endsWith("/") ? excluded : `${excluded}/`))
      )
        continue;
      listed++;
      pending.push(limit(() => handle(object)));
      // Keep the number of unsettled probes bounded on huge listings.
      if (pending.length >= 1_000) {
        await Promise.all(pending.splice(0));
        request.onProgress?.({ listed, images, skipped });
      }
    }
    await Promise.all(pending);
    await flush();
  } catch (err) {
    await Promise.allSettled(pending);
    await deps.runs.setStatus(config.runId, "failed", `listing failed: ${errorMessage(err)}`);
    throw err;
  }
  request.onProgress?.({ listed, images, skipped });

  const state = await deps.runs.markScanned(config.runId, images);
  if (state === "completed-run") {
    await deps.producer.add("finalize-run", {
      jobId: `finalize-${config.runId}`,
      payload: { runId: config.runId },
    });
  }
  log.info("run scanned", { listed, images, skipped });
  return { runId: config.runId, images, skipped };
}
