import pLimit from "p-limit";
import { errorMessage, type ManifestLine, type RunConfig } from "@tessera/core";
import type { EnqueueItem } from "@tessera/queue";
import { isPermanentStorageError, type ObjectInfo, type Storage } from "@tessera/storage";
import type { BoundTask } from "@tessera/tasks";
import { classifyObject } from "./classify.ts";
import type { IngestDeps, RequestLimits } from "./deps.ts";
import type { TransportPolicy } from "./plan.ts";
import { candidateOf, inListingOrder, ScanRequests, type Candidate } from "./scan-requests.ts";

export { annotateJobId } from "./job-ids.ts";

export interface ScanProgress {
  listed: number;
  images: number;
  skipped: number;
  /** Incremental runs: objects an earlier run annotated at the same ETag. */
  unchanged?: number;
}

/** Figures gathered while scanning, for the run's estimate and `tessera estimate`. */
export interface ScanFigures extends ScanProgress {
  /** Input tokens of every enqueued request (images + prompt texts), by the model's rule. */
  estimatedPromptTokens: number;
  /**
   * Per enqueued image, its own image tokens plus its share of its request's text (for min /
   * median / max); with one image per request, exactly its request's estimate.
   */
  imageTokens: number[];
  /** Requests the images were packed into (one job each). */
  requests: number;
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

export function emptyFigures(): ScanFigures {
  return {
    listed: 0,
    images: 0,
    skipped: 0,
    estimatedPromptTokens: 0,
    imageTokens: [],
    requests: 0,
    formats: {},
    skipReasons: {},
    brokenReasons: {},
  };
}

/** What a scan needs to pack images into requests and price each request. */
export interface ScanPlan {
  runId: string;
  model: string;
  detail: RunConfig["detail"];
  convert: RunConfig["convert"];
  /** The run's task: what each request sends (requestTask, requestTexts), for its estimate. */
  task: BoundTask;
  /** Images per request the run asks for (1 unless --images-per-request), within `limits`. */
  imagesPerRequest: number;
  limits: RequestLimits;
  transport: TransportPolicy;
  /** vqa: each listed image's own question (--questions). */
  questions?: ReadonlyMap<string, string>;
  /** Only images with a question are sent (a vqa run with --questions and no --question). */
  onlyQuestioned?: boolean;
}

const ENQUEUE_BATCH = 500;
/** Header reads in flight for callers without configuration; the CLI passes TESSERA_PROBE_CONCURRENCY (same default). */
export const DEFAULT_PROBE_CONCURRENCY = 64;
/** How often (in objects) a long listing checks whether the run was cancelled. */
const CANCEL_CHECK_EVERY = 1_000;

/** Was this recorded outcome about an image (counted in `images`) or about another object? */
function countsAsImage(line: ManifestLine): boolean {
  if (line.status === "unchanged") return false;
  const notAsked = line.error?.class === "not_an_image" || line.error?.class === "unselected";
  return !(line.status === "skipped" && notAsked);
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
  /**
   * Incremental runs: the `unchanged` line to record when an earlier run already annotated this
   * object at this ETag (nothing is read or sent for it), else undefined.
   */
  unchanged?(object: ObjectInfo, at: string): Promise<ManifestLine | undefined>;
}

/**
 * The sink of a real run: outcomes and jobs in Redis. `fresh`: the run was created for this scan,
 * so no object can have an outcome yet and none is looked up (a Redis round trip per object saved).
 */
export function runSink(
  deps: IngestDeps,
  runId: string,
  unchanged?: ScanSink["unchanged"],
  fresh = false,
): ScanSink {
  return {
    ...(unchanged === undefined ? {} : { unchanged }),
    earlierOutcome: fresh ? () => Promise.resolve(undefined) : (key) => deps.runs.itemOutcome(runId, key),
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
  plan: ScanPlan,
  source: Storage,
  now: () => Date,
  options: ScanOptions = {},
): Promise<ScanFigures & { cancelled: boolean }> {
  const limit = pLimit(options.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY);
  const progress = emptyFigures();
  let pending: Promise<void>[] = [];
  let cancelled = false;
  const requests = new ScanRequests(plan, progress);
  const flush = async () => {
    const jobs = requests.take();
    if (jobs.length > 0) await sink.enqueue(jobs);
  };

  const record = (line: ManifestLine) => sink.record(line);

  /** Gives the object its outcome, or returns the image to pack. */
  const handle = async (object: ObjectInfo): Promise<Candidate | undefined> => {
    const earlier = await sink.earlierOutcome(object.key);
    if (earlier) {
      if (earlier.status === "unchanged") progress.unchanged = (progress.unchanged ?? 0) + 1;
      else if (countsAsImage(earlier)) progress.images++;
      else progress.skipped++;
      // A resumed scan of a packed run: the image keeps its place so the groups come out as before.
      return requests.maxImages > 1 && countsAsImage(earlier) ? placeholderOf(object) : undefined;
    }
    const at = now().toISOString();
    const same = await sink.unchanged?.(object, at);
    if (same) {
      progress.unchanged = (progress.unchanged ?? 0) + 1;
      await record(same);
      return;
    }
    let classified: Awaited<ReturnType<typeof classifyObject>>;
    try {
      classified = await classifyObject(source, object);
    } catch (err) {
      // One unreadable object must not fail the run: it counts as an image that failed. A key
      // Tessera refuses to address (`..`, a leading slash), a refused read, a refused or missing
      // URL or one too big is final (`retry --failed` after fixing it); anything else may pass.
      progress.images++;
      const errorClass = isPermanentStorageError(err) ? "permanent" : "transient";
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
        const { probe } = classified;
        const question = plan.questions?.get(object.key);
        if (question === undefined && plan.onlyQuestioned) {
          progress.skipped++;
          const reason = "no question for this image in --questions";
          progress.skipReasons[reason] = (progress.skipReasons[reason] ?? 0) + 1;
          await record({
            key: object.key,
            etag: object.etag,
            status: "skipped",
            error: { class: "unselected", message: reason },
            at,
          });
          return;
        }
        progress.images++;
        progress.formats[probe.format] = (progress.formats[probe.format] ?? 0) + 1;
        return candidateOf(plan, object, probe, question);
      }
    }
  };

  /** An image already accounted for, probed again only to hold its place in its request. */
  const placeholderOf = async (object: ObjectInfo): Promise<Candidate | undefined> => {
    const classified = await classifyObject(source, object).catch(() => undefined);
    if (classified?.kind !== "image") return undefined;
    const question = plan.questions?.get(object.key);
    if (question === undefined && plan.onlyQuestioned) return undefined;
    return { ...candidateOf(plan, object, classified.probe, question), placeholder: true };
  };

  /** Packs an image; the packer sees images in listing order, so requests hold neighbours. */
  const pack = inListingOrder<Candidate>(async (candidate) => {
    const refused = requests.add(candidate);
    if (refused !== undefined) {
      progress.brokenReasons[refused] = (progress.brokenReasons[refused] ?? 0) + 1;
      await record({
        key: candidate.key,
        etag: candidate.ref.etag,
        status: "failed",
        error: { class: "bad_image", message: refused },
        at: now().toISOString(),
      });
    }
    if (requests.waiting >= ENQUEUE_BATCH) await flush();
  });

  const excluded = options.excludedPrefix;
  try {
    for await (const object of source.list()) {
      if (excluded !== undefined && object.key.startsWith(excluded)) continue;
      const seq = progress.listed++;
      pending.push(limit(async () => pack(seq, await handle(object))));
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
  // Even after a cancel: every image counted has a job, which records it as cancelled.
  requests.finish();
  await flush();
  options.onProgress?.({ listed: progress.listed, images: progress.images, skipped: progress.skipped });
  return { ...progress, cancelled };
}
