import pLimit from "p-limit";
import { errorMessage, type ManifestLine, type RunConfig } from "@tessera/core";
import type { EnqueueItem, ImageRef } from "@tessera/queue";
import { InvalidKeyError, type ObjectInfo, type Storage } from "@tessera/storage";
import { createHash } from "node:crypto";
import { estimateRequestTokens, estimateTextTokens, sentSize, type ProbeResult } from "@tessera/imaging";
import { requestTask, requestTexts, type BoundTask } from "@tessera/tasks";
import { classifyObject } from "./classify.ts";
import type { IngestDeps, RequestLimits } from "./deps.ts";
import { RequestPacker, type PlanImage, type TransportPolicy } from "./plan.ts";

export interface ScanProgress {
  listed: number;
  images: number;
  skipped: number;
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

/**
 * Job ids must be stable (a re-enqueue is ignored) and free of ':' (BullMQ's key separator). A
 * request of one image keeps the id of its key; a request of several, the id of its keys in order.
 */
export function annotateJobId(runId: string, key: string | readonly string[], attempt = 0): string {
  const text = typeof key === "string" ? key : key.join("\n");
  const base = `${runId}-${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
  return attempt === 0 ? base : `${base}-r${attempt}`;
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
/** How often (in objects) a long listing checks whether the run was cancelled. */
const CANCEL_CHECK_EVERY = 1_000;

/** Was this recorded outcome about an image (counted in `images`) or about another object? */
function countsAsImage(line: ManifestLine): boolean {
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
  plan: ScanPlan,
  source: Storage,
  now: () => Date,
  options: ScanOptions = {},
): Promise<ScanFigures & { cancelled: boolean }> {
  const limit = pLimit(options.probeConcurrency ?? 16);
  const progress = emptyFigures();
  let batch: EnqueueItem<"annotate">[] = [];
  let pending: Promise<void>[] = [];
  let cancelled = false;
  const maxImages = Math.min(plan.imagesPerRequest, plan.limits.maxImagesPerRequest);
  const packer = new RequestPacker<Candidate>(
    {
      maxImages,
      maxInlineBytes: plan.limits.maxInlineBytes,
      maxInputTokens: plan.limits.maxInputTokens,
      // The prompt's largest form: labels for every image of a full request.
      promptTokens: textTokens(requestTexts(plan.task.build(maxImages))),
    },
    plan.transport,
  );

  /**
   * One request: priced as the worker will send it, enqueued as one job. Its job id covers every
   * key of the group, placeholders included, so a resumed scan forms the same id for the same
   * group and BullMQ ignores it if the first scan's job is still there.
   */
  const emit = (group: readonly Candidate[]) => {
    const jobId = annotateJobId(
      plan.runId,
      group.map((g) => g.key),
    );
    const sent = group.filter((g) => !g.placeholder);
    if (sent.length === 0) return;
    const refs = sent.map((g) => g.ref);
    const texts = requestTexts(requestTask(plan.task, refs).build(refs.length));
    const tokens = estimateRequestTokens(
      plan.model,
      sent.map((g) => g.sent),
      texts,
    );
    progress.estimatedPromptTokens += tokens;
    progress.requests++;
    const textShare = (tokens - sent.reduce((sum, g) => sum + g.tokens, 0)) / sent.length;
    for (const g of sent) progress.imageTokens.push(Math.round(g.tokens + textShare));
    batch.push({ jobId, payload: { runId: plan.runId, images: refs } });
  };

  const flush = async () => {
    const items = batch;
    batch = [];
    if (items.length > 0) await sink.enqueue(items);
  };

  const record = (line: ManifestLine) => sink.record(line);

  /** Gives the object its outcome, or returns the image to pack. */
  const handle = async (object: ObjectInfo): Promise<Candidate | undefined> => {
    const earlier = await sink.earlierOutcome(object.key);
    if (earlier) {
      if (countsAsImage(earlier)) progress.images++;
      else progress.skipped++;
      // A resumed scan of a packed run: the image keeps its place so the groups come out as before.
      return maxImages > 1 && countsAsImage(earlier) ? placeholderOf(object) : undefined;
    }
    const at = now().toISOString();
    let classified: Awaited<ReturnType<typeof classifyObject>>;
    try {
      classified = await classifyObject(source, object);
    } catch (err) {
      // One unreadable object must not fail the run: it counts as an image that failed. A key
      // Tessera refuses to address (`..`, a leading slash) is final; anything else may pass.
      progress.images++;
      const errorClass = err instanceof InvalidKeyError ? "permanent" : "transient";
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
        return candidateOf(object, probe, question);
      }
    }
  };

  const candidateOf = (object: ObjectInfo, probe: ProbeResult, question: string | undefined): Candidate => {
    const display = { width: probe.displayWidth, height: probe.displayHeight };
    const sent = sentSize(display, plan.detail);
    return {
      key: object.key,
      bytes: sentBytesBound(object.size, sent, plan.detail),
      tokens: estimateRequestTokens(plan.model, [sent], []),
      ref: {
        key: object.key,
        etag: object.etag,
        size: object.size,
        mime: probe.mime,
        width: display.width,
        height: display.height,
        ...(question === undefined ? {} : { question }),
      },
      sent,
    };
  };

  /** An image already accounted for, probed again only to hold its place in its request. */
  const placeholderOf = async (object: ObjectInfo): Promise<Candidate | undefined> => {
    const classified = await classifyObject(source, object).catch(() => undefined);
    if (classified?.kind !== "image") return undefined;
    const question = plan.questions?.get(object.key);
    if (question === undefined && plan.onlyQuestioned) return undefined;
    return { ...candidateOf(object, classified.probe, question), placeholder: true };
  };

  /** Packs an image; the packer sees images in listing order, so requests hold neighbours. */
  const pack = inListingOrder<Candidate>(async (candidate) => {
    const step = packer.add(candidate);
    if (step.kind === "rejected") {
      if (candidate.placeholder) return;
      progress.brokenReasons[step.reason] = (progress.brokenReasons[step.reason] ?? 0) + 1;
      await record({
        key: candidate.key,
        etag: candidate.ref.etag,
        status: "failed",
        error: { class: "bad_image", message: step.reason },
        at: now().toISOString(),
      });
      return;
    }
    if (step.closed) emit(step.closed);
    if (batch.length >= ENQUEUE_BATCH) await flush();
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
  const last = packer.flush();
  if (last) emit(last);
  await flush();
  options.onProgress?.({ listed: progress.listed, images: progress.images, skipped: progress.skipped });
  return { ...progress, cancelled };
}

/** An image on its way into a request; a placeholder holds its place but is not sent. */
type Candidate = PlanImage & {
  ref: ImageRef;
  sent: { width: number; height: number };
  placeholder?: boolean;
};

/**
 * Calls `use` with the items of a numbered sequence in order (0, 1, 2, ...) as they arrive in
 * any order; an undefined item holds its place and is not passed on.
 */
export function inListingOrder<T>(
  use: (item: T) => Promise<void>,
): (seq: number, item: T | undefined) => Promise<void> {
  const arrived = new Map<number, T | undefined>();
  let next = 0;
  return async (seq, item) => {
    arrived.set(seq, item);
    while (arrived.has(next)) {
      const ready = arrived.get(next);
      arrived.delete(next);
      next++;
      if (ready !== undefined) await use(ready);
    }
  };
}

function textTokens(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + estimateTextTokens(text), 0);
}

/**
 * The most bytes an image can take in a request, from its header: the source size, or, when it
 * is resized or re-encoded, at most 4 bytes a pixel (uncompressed RGBA) of the size it is sent
 * at, whichever is smaller. A big original sent at "standard" detail is not counted at its
 * original size, so packing never refuses what the worker would shrink to fit.
 */
export function sentBytesBound(
  sourceBytes: number,
  sent: { width: number; height: number },
  detail: ScanPlan["detail"],
): number {
  if (detail === "original") return sourceBytes;
  return Math.min(sourceBytes, sent.width * sent.height * 4 + 64 * 1024);
}
