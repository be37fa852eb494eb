import { TesseraError } from "@tessera/core";
import { estimateRequestTokens, sentSize } from "@tessera/imaging";
import type { ImageRef, JobPayload } from "@tessera/queue";
import { formatProblem, requestTask, requestTexts, stricterRequest, type TaskRequest } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { asTessera, prepareAll, type Attempt, type ReadyUnit } from "./prepare-units.ts";
import { RequestRecorder, type AnnotateOutcome } from "./request-recorder.ts";
import { Hold } from "./reservations.ts";
import { sendRequest } from "./send.ts";
import { splitProportional, usageShares } from "./shares.ts";
import { taskOf } from "./task.ts";
import { unitsOf, type Unit } from "./units.ts";
import { writeAnnotation } from "./write-annotation.ts";

export { recordUnexpectedFailure } from "./record.ts";
export type { Attempt } from "./prepare-units.ts";
export type { AnnotateOutcome } from "./request-recorder.ts";

/** What the queue should do after a failed attempt. */
export class RetryLater extends Error {
  override readonly cause: TesseraError;
  /** Per unit of the job, the outcome recorded before giving up on this attempt, if any. */
  readonly settled: readonly (AnnotateOutcome | undefined)[] | undefined;
  constructor(cause: TesseraError, settled?: readonly (AnnotateOutcome | undefined)[]) {
    super(cause.message);
    this.name = "RetryLater";
    this.cause = cause;
    this.settled = settled;
  }
}

/**
 * Annotates the images of one request (1..N): its units (each image, or a compare set as a whole)
 * already accounted for are left alone; the request takes budget and rate-limit capacity as a
 * whole (from the headers' sizes, before any download); each image is fetched, oriented and
 * resized, and a unit with an image that cannot be sent fails on its own while the rest go; the
 * answer is split back per unit, each written and recorded with its share of the bill. Returns
 * each unit's outcome in order, or throws RetryLater when another attempt may succeed (units
 * recorded by then are not sent again). A unit whose answer cannot be read (not cut off) is not
 * recorded the first time: its bill is kept aside (RunStore.addUnusable) and the retry sends it
 * with a stricter instruction; a second unreadable answer fails it, with both bills.
 */
export async function annotateRequest(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempt: Attempt,
): Promise<AnnotateOutcome[]> {
  const units = unitsOf(payload);
  const outcomes = new Map<string, AnnotateOutcome>();
  const result = () => units.map((unit) => outcomes.get(unit.key) ?? "already-recorded");
  const unrecorded: Unit[] = [];
  for (const unit of units) {
    if (await deps.runs.itemOutcome(payload.runId, unit.key)) outcomes.set(unit.key, "already-recorded");
    else unrecorded.push(unit);
  }
  if (unrecorded.length === 0) return result();
  const run = await deps.runs.require(payload.runId);
  const request = new RequestRecorder(deps, run, attempt, outcomes);
  const open: Unit[] = [];
  for (const unit of unrecorded) {
    if (!(await request.reuseWritten(unit)) && !(await request.reuseCached(unit))) open.push(unit);
  }
  if (open.length === 0) return result();
  const bound = taskOf(run);
  // Units whose earlier answer could not be read: this request is their stricter retry.
  const earlier = await deps.runs.unusable(
    run.runId,
    open.map((unit) => unit.key),
  );
  const build = (imageCount: number, task = bound) =>
    earlier.size > 0 ? stricterRequest(task.build(imageCount)) : task.build(imageCount);
  if (run.cancelRequested) {
    // Cancelled: nothing more is sent; the units are accounted for as skipped.
    for (const unit of open) {
      await request.settle(unit, "skipped", {
        class: "cancelled",
        message: run.haltReason
          ? `not sent: the run was halted (${run.haltReason})`
          : "the run was cancelled before this was sent",
      });
    }
    return result();
  }

  const log = deps.log.child({
    runId: run.runId,
    key: open[0]!.key,
    units: open.length,
    attempt: attempt.number,
  });
  const startedAt = deps.now();
  const refsOf = (list: readonly { refs: ImageRef[] }[]) => list.flatMap((u) => u.refs);
  const inputTokens = (asked: TaskRequest, sizes: { width: number; height: number }[]) =>
    estimateRequestTokens(run.model, sizes, requestTexts(asked));
  let hold: Hold | undefined;
  const budgetSkip = async (list: readonly Unit[], tokens: number) => {
    for (const unit of list) {
      await request.settle(unit, "skipped", {
        class: "budget",
        message: `the run's budget cannot cover this request (about ${tokens} tokens)`,
      });
    }
    return result();
  };
  let ready: ReadyUnit[] = [];
  try {
    const planned = refsOf(open);
    const sizes = planned.flatMap((ref) =>
      ref.width !== undefined && ref.height !== undefined
        ? [sentSize({ width: ref.width, height: ref.height }, run.detail)]
        : [],
    );
    if (sizes.length === planned.length) {
      const tokens = inputTokens(build(sizes.length, requestTask(bound, planned)), sizes);
      hold = await Hold.take(deps, run, tokens);
      if (!hold) return await budgetSkip(open, tokens + run.maxOutputTokens);
    }
    ready = await prepareAll(deps, run, open, attempt, request);
    if (ready.length === 0) {
      await hold?.release();
      return result();
    }
    const prepared = ready.flatMap((r) => r.images);
    const refs = prepared.map((p) => p.ref);
    const task = requestTask(bound, refs);
    const asked = build(prepared.length, task);
    // Input tokens of this request as sent: reserved, admitted and recorded beside the bill.
    const tokens = inputTokens(
      asked,
      prepared.map((p) => p.image),
    );
    if (!hold) {
      hold = await Hold.take(deps, run, tokens);
      if (!hold)
        return await budgetSkip(
          ready.map((r) => r.unit),
          tokens + run.maxOutputTokens,
        );
    }
    await hold.admit(tokens);
    const sent = await sendRequest(
      deps,
      run,
      prepared.map((p) => ({ key: p.ref.key, image: p.image, uses: p.ref.uses })),
      asked,
    );
    const cost = await hold.settle(sent.answer.usage);
    const parsed = await task.parse(
      { text: sent.answer.text, finishReason: sent.answer.finishReason },
      { images: prepared.map((p) => ({ label: p.ref.key, transform: p.image.transform })) },
    );
    await deps.runs.addWarningCounts(run.runId, parsed.counters);
    // The bill is the request's: each unit carries a share, and the shares add up to it.
    const ownTokens = ready.map((r) =>
      estimateRequestTokens(
        run.model,
        r.images.map((p) => p.image),
        [],
      ),
    );
    const usages = usageShares(sent.answer.usage, ownTokens);
    const costs = splitProportional(
      cost,
      usages.map((u) => u.totalTokens),
    );
    const estimates = splitProportional(tokens, ownTokens);
    const cutOff = sent.answer.finishReason === "MAX_TOKENS";
    const unreadable: Unit[] = [];
    let strictDone = 0;
    let offset = 0;
    for (const [index, { unit, images }] of ready.entries()) {
      const first = offset;
      offset += images.length;
      const outcome = parsed.perImage[index];
      const earlierAnswer = earlier.get(unit.key);
      if (!outcome?.ok) {
        const reason = outcome ? `${outcome.code}: ${outcome.error}` : "no result in the answer";
        // A cut-off answer would be cut off again: only a malformed one earns the stricter retry.
        if (!earlierAnswer && !cutOff && outcome?.code !== "truncated" && attempt.number < attempt.max) {
          const usage = usages[index]!;
          await deps.runs.addUnusable(run.runId, unit.key, {
            prompt: usage.promptTokens,
            output: usage.outputTokens,
            image: usage.imageTokens,
            costMicros: costs[index]!,
            reason,
          });
          unreadable.push(unit);
          continue;
        }
        // Paid for but unusable: this unit fails with the reason (the earlier answer's bill is
        // added when it is recorded), the others stand.
        await request.settle(
          unit,
          "failed",
          {
            class: "unparseable",
            message: earlierAnswer
              ? `${reason} (on a retry with a stricter prompt; first: ${earlierAnswer.reason})`
              : reason,
          },
          { usage: usages[index]!, costMicros: costs[index]! },
        );
        continue;
      }
      if (earlierAnswer) strictDone++;
      const sentImages = images.map((p, i) => ({ ...p, transport: sent.transports[first + i]! }));
      const annotation = await writeAnnotation(
        deps,
        run,
        sent.answer,
        {
          unit,
          images: sentImages,
          result: outcome.result,
          partial: outcome.partial,
          warnings: [
            ...images.flatMap((p, i) => [...p.image.warnings, ...sent.warnings[first + i]!]),
            ...outcome.warnings,
            ...(earlierAnswer
              ? [
                  formatProblem({
                    code: "strict_retry",
                    message: `answered on a retry with a stricter prompt; the first answer could not be read (${earlierAnswer.reason})`,
                  }),
                ]
              : []),
          ],
          configHash: task.configHash,
          usage: usages[index]!,
          position: { index, of: ready.length },
        },
        startedAt,
      );
      await request.done(unit, annotation, costs[index]!, estimates[index]!);
    }
    if (strictDone > 0) await deps.runs.addWarningCounts(run.runId, { strict_retry: strictDone });
    log.debug("annotated", { tokens: sent.answer.usage.totalTokens });
    if (unreadable.length === 0) return result();
    log.warn("answer could not be read, will retry with a stricter prompt", {
      units: unreadable.map((u) => u.key),
    });
    throw new RetryLater(
      new TesseraError(
        "unparseable",
        `the answer for ${unreadable.length === 1 ? unreadable[0]!.key : `${unreadable.length} images`} could not be read; retrying with a stricter prompt`,
      ),
      units.map((unit) => outcomes.get(unit.key)),
    );
  } catch (err) {
    if (err instanceof RetryLater) throw err;
    await hold?.release();
    const error = asTessera(err);
    if (error.errorClass === "rate_limited" || (error.retryable && attempt.number < attempt.max)) {
      const level = error.errorClass === "rate_limited" ? "debug" : "warn";
      log[level]("attempt failed, will retry", { errorClass: error.errorClass, error: error.message });
      throw new RetryLater(error);
    }
    const status = error.errorClass === "blocked" ? "blocked" : "failed";
    log.warn(`request ${status}`, { errorClass: error.errorClass, error: error.message });
    for (const unit of ready.length > 0 ? ready.map((r) => r.unit) : open) {
      await request.settle(unit, status, { class: error.errorClass, message: error.message });
    }
    return result();
  }
}
