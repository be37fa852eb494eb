import { costMicros, priceFor, UnknownPriceError, type ModelPrice } from "@tessera/config";
import {
  ANNOTATION_SCHEMA_VERSION,
  TesseraError,
  annotationSchema,
  errorMessage,
  type Annotation,
  type ManifestLine,
  type RunConfig,
} from "@tessera/core";
import { generate } from "@tessera/gemini";
import { estimateRequestTokens, inspectImage } from "@tessera/imaging";
import { enqueueFinalize, RequestTooLargeError, type JobPayload, type Reservation } from "@tessera/queue";
import { ObjectNotFoundError, ObjectTooLargeError, PreconditionFailedError } from "@tessera/storage";
import type { WorkerDeps } from "./deps.ts";
import { runFiles } from "./layout.ts";

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

async function fetchImage(
  deps: WorkerDeps,
  config: RunConfig,
  payload: JobPayload<"annotate">,
): Promise<Buffer> {
  const source = deps.storage(config.source);
  try {
    return await source.get(payload.key, { ifMatch: payload.etag, maxBytes: deps.maxImageBytes });
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
    if (err instanceof ObjectTooLargeError) {
      throw new TesseraError("bad_image", `image larger than ${deps.maxImageBytes} bytes, the inline limit`, {
        cause: err,
      });
    }
    throw new TesseraError("transient", `reading ${source.describe(payload.key)}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/**
 * Annotates one image: fetch, check, ask Gemini, write the annotation, record the outcome.
 * Returns the final outcome, or throws RetryLater when another attempt may succeed. An image
 * whose outcome is already recorded is never sent again (a retried or duplicated job pays nothing).
 */
export async function annotateImage(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempt: Attempt,
): Promise<AnnotateOutcome> {
  if (await deps.runs.itemOutcome(payload.runId, payload.key)) return "already-recorded";
  const config = await deps.runs.require(payload.runId);
  if (config.cancelRequested) {
    // Cancelled: nothing more is sent; the image is accounted for as skipped.
    await record(deps, config.runId, {
      key: payload.key,
      etag: payload.etag,
      status: "skipped",
      mime: payload.mime,
      error: { class: "cancelled", message: "the run was cancelled before this image was sent" },
      attempts: attempt.number,
      at: deps.now().toISOString(),
    });
    return "skipped";
  }
  const startedAt = deps.now();
  const log = deps.log.child({ runId: payload.runId, key: payload.key, attempt: attempt.number });
  const annotationKey = runFiles.annotation(config.runId, payload.key);
  try {
    const earlier = await findWrittenAnnotation(deps, config, annotationKey, payload.etag);
    if (earlier) {
      // A previous attempt wrote the annotation but died before recording it: record, don't pay again.
      await record(deps, config.runId, doneLine(payload, earlier, annotationKey, attempt, deps.now()));
      return "done";
    }
    const bytes = await fetchImage(deps, config, payload);
    const image = await inspectImage(bytes);
    const inputEstimate = estimateRequestTokens(config.model, [image], config.prompt);
    const price = priceOrUndefined(deps, config.model);
    const held = {
      tokens: inputEstimate + config.maxOutputTokens,
      costMicros: price ? costMicros(price, inputEstimate, config.maxOutputTokens) : 0,
    };
    if (!(await deps.runs.reserveBudget(config.runId, held.tokens, held.costMicros))) {
      await record(deps, config.runId, {
        key: payload.key,
        etag: payload.etag,
        status: "skipped",
        mime: image.mime,
        error: {
          class: "budget",
          message: `the run's budget cannot cover this image (about ${held.tokens} tokens)`,
        },
        attempts: attempt.number,
        at: deps.now().toISOString(),
      });
      return "skipped";
    }
    let answer: Awaited<ReturnType<typeof generate>>;
    try {
      const reservation = await reserveCapacity(deps, config.model, inputEstimate);
      answer = await generate(deps.gemini, {
        model: config.model,
        prompt: config.prompt,
        maxOutputTokens: config.maxOutputTokens,
        images: [{ mimeType: image.mime, data: bytes }],
      });
      if (reservation) await deps.limiter?.settle(reservation, answer.usage.promptTokens);
    } catch (err) {
      // A failed call is not billed: give the budget back.
      await deps.runs.settleBudget(config.runId, held, { tokens: 0, costMicros: 0 });
      throw err;
    }
    const billedOutput = answer.usage.outputTokens + answer.usage.thoughtsTokens;
    const spent = {
      tokens: answer.usage.promptTokens + billedOutput,
      costMicros: price ? costMicros(price, answer.usage.promptTokens, billedOutput) : 0,
    };
    await deps.runs.settleBudget(config.runId, held, spent);
    const annotation: Annotation = annotationSchema.parse({
      schemaVersion: ANNOTATION_SCHEMA_VERSION,
      runId: config.runId,
      task: config.task,
      model: config.model,
      modelVersion: answer.modelVersion,
      responseId: answer.responseId,
      source: {
        uri: deps.storage(config.source).describe(payload.key),
        key: payload.key,
        etag: payload.etag,
        mime: image.mime,
        width: image.width,
        height: image.height,
        bytes: image.bytes,
      },
      result: { caption: answer.text.trim() },
      usage: answer.usage,
      finishReason: answer.finishReason,
      warnings: image.warnings,
      startedAt: startedAt.toISOString(),
      completedAt: deps.now().toISOString(),
    } satisfies Annotation);
    await deps.storage(config.out).put(annotationKey, JSON.stringify(annotation, null, 2) + "\n", {
      contentType: "application/json",
    });
    await record(
      deps,
      config.runId,
      doneLine(payload, annotation, annotationKey, attempt, deps.now()),
      spent.costMicros,
    );
    log.debug("annotated", { tokens: answer.usage.totalTokens });
    return "done";
  } catch (err) {
    const error =
      err instanceof TesseraError ? err : new TesseraError("transient", errorMessage(err), { cause: err });
    if (error.errorClass === "rate_limited" || (error.retryable && attempt.number < attempt.max)) {
      const level = error.errorClass === "rate_limited" ? "debug" : "warn";
      log[level]("attempt failed, will retry", { errorClass: error.errorClass, error: error.message });
      throw new RetryLater(error);
    }
    const status = error.errorClass === "blocked" ? "blocked" : "failed";
    log.warn(`image ${status}`, { errorClass: error.errorClass, error: error.message });
    await record(deps, config.runId, {
      key: payload.key,
      etag: payload.etag,
      status,
      mime: payload.mime,
      error: { class: error.errorClass, message: error.message },
      attempts: attempt.number,
      at: deps.now().toISOString(),
    });
    return status;
  }
}

/**
 * Takes the request's share of the fleet's rate limits before calling Gemini, so a fleet stays
 * under RPM/TPM/RPD instead of discovering them through 429s.
 */
async function reserveCapacity(
  deps: WorkerDeps,
  model: string,
  tokens: number,
): Promise<Reservation | undefined> {
  if (!deps.limiter) return undefined;
  try {
    const slot = await deps.limiter.acquire(model, tokens);
    if (slot.ok) return slot.reservation;
    throw new TesseraError("rate_limited", `fleet ${slot.metric.toUpperCase()} limit reached`, {
      retryDelayMs: slot.waitMs,
    });
  } catch (err) {
    if (err instanceof RequestTooLargeError) throw new TesseraError("permanent", err.message, { cause: err });
    throw err;
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
  return {
    key: payload.key,
    etag: payload.etag,
    status: "done",
    mime: annotation.source.mime,
    annotationKey,
    tokens: { prompt: usage.promptTokens, output: usage.outputTokens, image: usage.imageTokens },
    attempts: attempt.number,
    at: now.toISOString(),
  };
}

async function findWrittenAnnotation(
  deps: WorkerDeps,
  config: RunConfig,
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

function priceOrUndefined(deps: WorkerDeps, model: string): ModelPrice | undefined {
  try {
    return priceFor(deps.prices, model);
  } catch (err) {
    // Ingest refuses a cost budget without a price, so here an unknown price only hides the cost.
    if (err instanceof UnknownPriceError) return undefined;
    throw err;
  }
}

async function record(deps: WorkerDeps, runId: string, line: ManifestLine, costMicros = 0): Promise<void> {
  const result = await deps.runs.recordItem(runId, line, { costMicros });
  if (result === "completed-run") {
    await enqueueFinalize(deps.runs, deps.producer, runId);
  }
}
