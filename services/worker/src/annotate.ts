import {
  ANNOTATION_SCHEMA_VERSION,
  TesseraError,
  annotationSchema,
  errorMessage,
  type Annotation,
  type ManifestLine,
} from "@tessera/core";
import { estimateRequestTokens, prepareImage, sentSize } from "@tessera/imaging";
import { enqueueFinalize, type JobPayload, type RunState } from "@tessera/queue";
import {
  AccessDeniedError,
  LocationNotFoundError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PreconditionFailedError,
} from "@tessera/storage";
import type { WorkerDeps } from "./deps.ts";
import { reuseCachedAnnotation, storeInCache, writeAnnotation } from "./annotation-cache.ts";
import { runFiles } from "./layout.ts";
import { Hold } from "./reservations.ts";
import { sendImage } from "./send.ts";
import { taskOf } from "./task.ts";
import { locatedObjects, renderPreview, requestTexts, type ExportRecord } from "@tessera/tasks";

export interface Attempt {
  /** 1-based number of this attempt. */
  number: number;
  max: number;
}

export type AnnotateOutcome = "done" | "already-recorded" | "failed" | "blocked" | "skipped";

/** What the queue should do after a failed attempt. */
export class RetryLater extends Error {
  override readonly cause: TesseraError;
  constructor(cause: TesseraError) {
    super(cause.message);
    this.name = "RetryLater";
    this.cause = cause;
  }
}

async function fetchImage(deps: WorkerDeps, run: RunState, payload: JobPayload<"annotate">): Promise<Buffer> {
  const source = deps.storage(run.source);
  try {
    return await source.get(payload.key, { ifMatch: payload.etag, maxBytes: deps.maxSourceBytes });
  } catch (err) {
    if (err instanceof PreconditionFailedError) {
      throw new TesseraError("source_changed", "the object changed since the run listed it (ETag differs)", {
        cause: err,
      });
    }
    if (err instanceof ObjectNotFoundError) {
      throw new TesseraError("source_changed", "the object was deleted since the run listed it", {
        cause: err,
      });
    }
    if (err instanceof AccessDeniedError || err instanceof LocationNotFoundError) {
      // Retrying will not change a permission or bring a bucket back; `tessera retry --failed` can.
      throw new TesseraError("permanent", err.message, { cause: err });
    }
    if (err instanceof ObjectTooLargeError) {
      throw new TesseraError("bad_image", `source object larger than ${deps.maxSourceBytes} bytes`, {
        cause: err,
      });
    }
    throw new TesseraError("transient", `reading ${source.describe(payload.key)}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

function inputEstimate(run: RunState, display: { width: number; height: number }): number {
  return estimateRequestTokens(
    run.model,
    [sentSize(display, run.detail)],
    requestTexts(taskOf(run).build(1)),
  );
}

/**
 * Annotates one image: take budget and rate-limit capacity (from the header's size, before any
 * download), fetch, orient and resize, ask Gemini, write the annotation, record the outcome.
 * Returns the final outcome, or throws RetryLater when another attempt may succeed. An image
 * whose outcome is already recorded is never sent again (a retried or duplicated job pays nothing).
 */
export async function annotateImage(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempt: Attempt,
): Promise<AnnotateOutcome> {
  if (await deps.runs.itemOutcome(payload.runId, payload.key)) return "already-recorded";
  const run = await deps.runs.require(payload.runId);
  const at = () => deps.now().toISOString();
  const base = { key: payload.key, etag: payload.etag, mime: payload.mime, attempts: attempt.number };
  if (run.cancelRequested) {
    // Cancelled: nothing more is sent; the image is accounted for as skipped.
    await record(deps, run.runId, {
      ...base,
      status: "skipped",
      error: {
        class: "cancelled",
        message: run.haltReason
          ? `not sent: the run was halted (${run.haltReason})`
          : "the run was cancelled before this image was sent",
      },
      at: at(),
    });
    return "skipped";
  }
  const startedAt = deps.now();
  const log = deps.log.child({ runId: payload.runId, key: payload.key, attempt: attempt.number });
  const annotationKey = runFiles.annotation(run.runId, payload.key);
  let hold: Hold | undefined;
  const budgetSkip = async (tokens: number) => {
    await record(deps, run.runId, {
      ...base,
      status: "skipped",
      error: {
        class: "budget",
        message: `the run's budget cannot cover this image (about ${tokens} tokens)`,
      },
      at: at(),
    });
    return "skipped" as const;
  };
  try {
    const earlier = await findWrittenAnnotation(deps, run, annotationKey, payload.etag);
    if (earlier) {
      // A previous attempt wrote the annotation but died before recording it: record, don't pay again.
      await storeInCache(deps, run, earlier);
      await record(deps, run.runId, doneLine(payload, earlier, annotationKey, attempt, deps.now()));
      return "done";
    }
    const cached = await reuseCachedAnnotation(deps, run, payload, annotationKey);
    if (cached) {
      await record(deps, run.runId, doneLine(payload, cached, annotationKey, attempt, deps.now()));
      return "done";
    }
    if (payload.width !== undefined && payload.height !== undefined) {
      const tokens = inputEstimate(run, { width: payload.width, height: payload.height });
      hold = await Hold.take(deps, run, tokens);
      if (!hold) return await budgetSkip(tokens + run.maxOutputTokens);
    }
    const bytes = await fetchImage(deps, run, payload);
    const image = await prepareImage(bytes, { detail: run.detail, convert: run.convert });
    const task = taskOf(run);
    const request = task.build(1);
    // Input tokens of this request as sent: reserved, admitted and recorded beside the bill.
    const inputTokens = estimateRequestTokens(run.model, [image], requestTexts(request));
    if (!hold) {
      hold = await Hold.take(deps, run, inputTokens);
      if (!hold) return await budgetSkip(inputTokens + run.maxOutputTokens);
    }
    await hold.admit(inputTokens);
    const {
      answer,
      transport,
      warnings: sendWarnings,
    } = await sendImage(deps, run, payload.key, image, request);
    const cost = await hold.settle(answer.usage);
    const parsed = await task.parse(
      { text: answer.text, finishReason: answer.finishReason },
      { images: [{ label: payload.key, transform: image.transform }] },
    );
    await deps.runs.addWarningCounts(run.runId, parsed.counters);
    const outcome = parsed.perImage[0];
    if (!outcome?.ok) {
      // Paid for but unusable: recorded as failed with the reason.
      throw new TesseraError(
        "unparseable",
        outcome ? `${outcome.code}: ${outcome.error}` : "no result for the image",
      );
    }
    const annotation: Annotation = annotationSchema.parse({
      schemaVersion: ANNOTATION_SCHEMA_VERSION,
      runId: run.runId,
      task: run.task,
      model: run.model,
      modelVersion: answer.modelVersion,
      responseId: answer.responseId,
      source: {
        uri: deps.storage(run.source).describe(payload.key),
        key: payload.key,
        etag: payload.etag,
        mime: image.source.mime,
        width: image.source.displayWidth,
        height: image.source.displayHeight,
        bytes: bytes.length,
      },
      sent: {
        width: image.width,
        height: image.height,
        mime: image.mime,
        bytes: image.bytes.length,
        detail: run.detail,
        transport,
      },
      result: outcome.result,
      configHash: task.configHash,
      partial: outcome.partial,
      usage: answer.usage,
      finishReason: answer.finishReason,
      warnings: [...image.warnings, ...sendWarnings, ...outcome.warnings],
      startedAt: startedAt.toISOString(),
      completedAt: deps.now().toISOString(),
    } satisfies Annotation);
    await writeAnnotation(deps, run, annotationKey, annotation);
    const objects = locatedObjects({
      task: run.task,
      result: outcome.result,
      source: annotation.source,
    } as ExportRecord);
    if (objects !== undefined) {
      // A picture of what was found, drawn on the original (orientation applied).
      const preview = await renderPreview(bytes, objects);
      await deps
        .storage(run.out)
        .put(runFiles.preview(run.runId, payload.key), preview, { contentType: "image/png" });
    }
    await record(
      deps,
      run.runId,
      doneLine(payload, annotation, annotationKey, attempt, deps.now()),
      cost,
      inputTokens,
    );
    log.debug("annotated", { tokens: answer.usage.totalTokens });
    return "done";
  } catch (err) {
    await hold?.release();
    const error =
      err instanceof TesseraError ? err : new TesseraError("transient", errorMessage(err), { cause: err });
    if (error.errorClass === "rate_limited" || (error.retryable && attempt.number < attempt.max)) {
      const level = error.errorClass === "rate_limited" ? "debug" : "warn";
      log[level]("attempt failed, will retry", { errorClass: error.errorClass, error: error.message });
      throw new RetryLater(error);
    }
    const status = error.errorClass === "blocked" ? "blocked" : "failed";
    log.warn(`image ${status}`, { errorClass: error.errorClass, error: error.message });
    await record(deps, run.runId, {
      ...base,
      status,
      error: { class: error.errorClass, message: error.message },
      at: at(),
    });
    return status;
  }
}

function doneLine(
  payload: JobPayload<"annotate">,
  annotation: Annotation,
  annotationKey: string,
  attempt: Attempt,
  now: Date,
): ManifestLine {
  const { usage } = annotation;
  // A cached annotation was paid for by the run it came from: this run was billed nothing.
  const paid =
    annotation.cachedFrom === undefined
      ? { tokens: { prompt: usage.promptTokens, output: usage.outputTokens, image: usage.imageTokens } }
      : { cached: true };
  return {
    key: payload.key,
    etag: payload.etag,
    status: "done",
    mime: annotation.source.mime,
    annotationKey,
    ...paid,
    attempts: attempt.number,
    at: now.toISOString(),
  };
}

async function findWrittenAnnotation(
  deps: WorkerDeps,
  config: RunState,
  annotationKey: string,
  etag: string,
): Promise<Annotation | undefined> {
  const out = deps.storage(config.out);
  if (!(await out.head(annotationKey))) return undefined;
  const parsed = annotationSchema.safeParse(JSON.parse((await out.get(annotationKey)).toString("utf8")));
  return parsed.success && parsed.data.source.etag === etag ? parsed.data : undefined;
}

export async function recordUnexpectedFailure(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempts: number,
  err: unknown,
): Promise<void> {
  await record(deps, payload.runId, {
    key: payload.key,
    etag: payload.etag,
    status: "failed",
    mime: payload.mime,
    error: { class: "transient", message: `gave up after ${attempts} attempts: ${errorMessage(err)}` },
    attempts,
    at: deps.now().toISOString(),
  });
}

async function record(
  deps: WorkerDeps,
  runId: string,
  line: ManifestLine,
  costMicros = 0,
  estimatedPromptTokens = 0,
): Promise<void> {
  const result = await deps.runs.recordItem(runId, line, { costMicros, estimatedPromptTokens });
  if (result === "completed-run") {
    await enqueueFinalize(deps.runs, deps.producer, runId);
  }
}
