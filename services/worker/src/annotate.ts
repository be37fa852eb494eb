import { TesseraError, errorMessage, type ManifestLine, type Usage } from "@tessera/core";
import { estimateRequestTokens, prepareImage, sentSize, type PreparedImage } from "@tessera/imaging";
import type { ImageRef, JobPayload, RunState } from "@tessera/queue";
import { requestTask, requestTexts, type BoundTask } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { fetchImage } from "./fetch-image.ts";
import { runFiles } from "./layout.ts";
import { doneLine, findWrittenAnnotation, record } from "./record.ts";
import { Hold } from "./reservations.ts";
import { sendRequest, unsendable } from "./send.ts";
import { splitProportional, usageShares } from "./shares.ts";
import { taskOf } from "./task.ts";
import { writeAnnotation } from "./write-annotation.ts";

export { recordUnexpectedFailure } from "./record.ts";

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

interface Prepared {
  ref: ImageRef;
  bytes: Buffer;
  image: PreparedImage;
}

const asTessera = (err: unknown) =>
  err instanceof TesseraError ? err : new TesseraError("transient", errorMessage(err), { cause: err });

/**
 * Annotates the images of one request (1..N): images already accounted for are left alone; the
 * request takes budget and rate-limit capacity as a whole (from the headers' sizes, before any
 * download); each image is fetched, oriented and resized, and one that cannot be sent fails on
 * its own while the rest go; the answer is split back per image, each written and recorded with
 * its share of the bill. Returns each image's outcome in payload order, or throws RetryLater
 * when another attempt may succeed (images recorded by then are not sent again).
 */
export async function annotateRequest(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempt: Attempt,
): Promise<AnnotateOutcome[]> {
  const outcomes = new Map<string, AnnotateOutcome>();
  const result = () => payload.images.map((ref) => outcomes.get(ref.key) ?? "already-recorded");
  const unrecorded: ImageRef[] = [];
  for (const ref of payload.images) {
    if (await deps.runs.itemOutcome(payload.runId, ref.key)) outcomes.set(ref.key, "already-recorded");
    else unrecorded.push(ref);
  }
  if (unrecorded.length === 0) return result();
  const run = await deps.runs.require(payload.runId);
  const request = new RequestRecorder(deps, run, attempt, outcomes);
  const open: ImageRef[] = [];
  for (const ref of unrecorded) {
    if (!(await request.reuseWritten(ref))) open.push(ref);
  }
  if (open.length === 0) return result();
  if (run.cancelRequested) {
    // Cancelled: nothing more is sent; the images are accounted for as skipped.
    for (const ref of open) {
      await request.settle(ref, "skipped", {
        class: "cancelled",
        message: "the run was cancelled before this image was sent",
      });
    }
    return result();
  }

  const log = deps.log.child({
    runId: run.runId,
    key: open[0]!.key,
    images: open.length,
    attempt: attempt.number,
  });
  const startedAt = deps.now();
  const bound = taskOf(run);
  const inputTokens = (task: BoundTask, sizes: { width: number; height: number }[]) =>
    estimateRequestTokens(run.model, sizes, requestTexts(task.build(sizes.length)));
  let hold: Hold | undefined;
  const budgetSkip = async (refs: readonly ImageRef[], tokens: number) => {
    for (const ref of refs) {
      await request.settle(ref, "skipped", {
        class: "budget",
        message: `the run's budget cannot cover this image's request (about ${tokens} tokens)`,
      });
    }
    return result();
  };
  let prepared: Prepared[] = [];
  try {
    const sizes = open.flatMap((ref) =>
      ref.width !== undefined && ref.height !== undefined
        ? [sentSize({ width: ref.width, height: ref.height }, run.detail)]
        : [],
    );
    if (sizes.length === open.length) {
      const tokens = inputTokens(requestTask(bound, open), sizes);
      hold = await Hold.take(deps, run, tokens);
      if (!hold) return await budgetSkip(open, tokens + run.maxOutputTokens);
    }
    prepared = await prepareAll(deps, run, open, attempt, request);
    if (prepared.length === 0) {
      await hold?.release();
      return result();
    }
    const refs = prepared.map((p) => p.ref);
    const task = requestTask(bound, refs);
    // Input tokens of this request as sent: reserved, admitted and recorded beside the bill.
    const tokens = inputTokens(
      task,
      prepared.map((p) => p.image),
    );
    if (!hold) {
      hold = await Hold.take(deps, run, tokens);
      if (!hold) return await budgetSkip(refs, tokens + run.maxOutputTokens);
    }
    await hold.admit(tokens);
    const sent = await sendRequest(
      deps,
      run,
      prepared.map((p) => ({ key: p.ref.key, image: p.image, uses: p.ref.uses })),
      task.build(prepared.length),
    );
    const cost = await hold.settle(sent.answer.usage);
    const parsed = await task.parse(
      { text: sent.answer.text, finishReason: sent.answer.finishReason },
      { images: prepared.map((p) => ({ label: p.ref.key, transform: p.image.transform })) },
    );
    await deps.runs.addWarningCounts(run.runId, parsed.counters);
    // The bill is the request's: each image carries a share, and the shares add up to it.
    const ownTokens = prepared.map((p) => estimateRequestTokens(run.model, [p.image], []));
    const usages = usageShares(sent.answer.usage, ownTokens);
    const costs = splitProportional(
      cost,
      usages.map((u) => u.totalTokens),
    );
    const estimates = splitProportional(tokens, ownTokens);
    for (const [index, item] of prepared.entries()) {
      const outcome = parsed.perImage[index];
      if (!outcome?.ok) {
        // Paid for but unusable: this image fails with the reason, the others stand.
        await request.settle(
          item.ref,
          "failed",
          {
            class: "unparseable",
            message: outcome ? `${outcome.code}: ${outcome.error}` : "no result for the image",
          },
          { usage: usages[index]!, costMicros: costs[index]! },
        );
        continue;
      }
      const annotation = await writeAnnotation(
        deps,
        run,
        sent.answer,
        {
          ...item,
          transport: sent.transports[index]!,
          result: outcome.result,
          partial: outcome.partial,
          warnings: [...item.image.warnings, ...sent.warnings[index]!, ...outcome.warnings],
          configHash: task.configHash,
          usage: usages[index]!,
          position: { index, of: prepared.length },
        },
        startedAt,
      );
      await request.done(item.ref, annotation, costs[index]!, estimates[index]!);
    }
    log.debug("annotated", { tokens: sent.answer.usage.totalTokens });
    return result();
  } catch (err) {
    await hold?.release();
    const error = asTessera(err);
    if (error.errorClass === "rate_limited" || (error.retryable && attempt.number < attempt.max)) {
      const level = error.errorClass === "rate_limited" ? "debug" : "warn";
      log[level]("attempt failed, will retry", { errorClass: error.errorClass, error: error.message });
      throw new RetryLater(error);
    }
    const status = error.errorClass === "blocked" ? "blocked" : "failed";
    log.warn(`request ${status}`, { errorClass: error.errorClass, error: error.message });
    const pending = prepared.length > 0 ? prepared.map((p) => p.ref) : open;
    for (const ref of pending) {
      await request.settle(ref, status, { class: error.errorClass, message: error.message });
    }
    return result();
  }
}

/**
 * Fetches and prepares every image. One that is broken, changed or too big to send fails on its
 * own here and is left out of the request; a transient read error retries the whole request
 * while attempts remain (nothing has been paid yet), and on the last attempt fails that image.
 */
async function prepareAll(
  deps: WorkerDeps,
  run: RunState,
  refs: readonly ImageRef[],
  attempt: Attempt,
  request: RequestRecorder,
): Promise<Prepared[]> {
  const settled = await Promise.allSettled(
    refs.map(async (ref): Promise<Prepared> => {
      const bytes = await fetchImage(deps, run, ref);
      const image = await prepareImage(bytes, { detail: run.detail, convert: run.convert });
      const refused = unsendable(deps, run, image);
      if (refused) throw refused;
      return { ref, bytes, image };
    }),
  );
  const retry = settled.find(
    (s) => s.status === "rejected" && asTessera(s.reason).retryable && attempt.number < attempt.max,
  );
  if (retry?.status === "rejected") throw asTessera(retry.reason);
  const prepared: Prepared[] = [];
  for (const [index, s] of settled.entries()) {
    if (s.status === "fulfilled") {
      prepared.push(s.value);
      continue;
    }
    const error = asTessera(s.reason);
    deps.log.warn("image failed", {
      runId: run.runId,
      key: refs[index]!.key,
      errorClass: error.errorClass,
      error: error.message,
    });
    await request.settle(refs[index]!, "failed", { class: error.errorClass, message: error.message });
  }
  return prepared;
}

/** Records the outcomes of one request's images, keeping the attempt number and the tally. */
class RequestRecorder {
  readonly #deps: WorkerDeps;
  readonly #run: RunState;
  readonly #attempt: Attempt;
  readonly #outcomes: Map<string, AnnotateOutcome>;

  constructor(deps: WorkerDeps, run: RunState, attempt: Attempt, outcomes: Map<string, AnnotateOutcome>) {
    this.#deps = deps;
    this.#run = run;
    this.#attempt = attempt;
    this.#outcomes = outcomes;
  }

  /** A previous attempt wrote the annotation but died before recording it: record, don't pay again. */
  async reuseWritten(ref: ImageRef): Promise<boolean> {
    const annotationKey = runFiles.annotation(this.#run.runId, ref.key);
    const earlier = await findWrittenAnnotation(this.#deps, this.#run, annotationKey, ref.etag);
    if (!earlier) return false;
    const line = doneLine(ref, earlier, annotationKey, this.#attempt.number, this.#deps.now());
    if ((await record(this.#deps, this.#run.runId, line)) !== "duplicate")
      this.#outcomes.set(ref.key, "done");
    return true;
  }

  async done(
    ref: ImageRef,
    annotation: Parameters<typeof doneLine>[1],
    costMicros: number,
    estimated: number,
  ) {
    const annotationKey = runFiles.annotation(this.#run.runId, ref.key);
    const line = doneLine(ref, annotation, annotationKey, this.#attempt.number, this.#deps.now());
    if ((await record(this.#deps, this.#run.runId, line, costMicros, estimated)) !== "duplicate") {
      this.#outcomes.set(ref.key, "done");
    }
  }

  async settle(
    ref: ImageRef,
    status: "failed" | "blocked" | "skipped",
    error: NonNullable<ManifestLine["error"]>,
    /** What the image was billed although it has no result (an unusable answer). */
    paid?: { usage: Usage; costMicros: number },
  ): Promise<void> {
    const usage = paid?.usage;
    const recorded = await record(
      this.#deps,
      this.#run.runId,
      {
        key: ref.key,
        etag: ref.etag,
        status,
        mime: ref.mime,
        ...(usage
          ? { tokens: { prompt: usage.promptTokens, output: usage.outputTokens, image: usage.imageTokens } }
          : {}),
        error,
        attempts: this.#attempt.number,
        at: this.#deps.now().toISOString(),
      },
      paid?.costMicros ?? 0,
    );
    if (recorded !== "duplicate") this.#outcomes.set(ref.key, status);
  }
}
