import type { TesseraError } from "@tessera/core";
import { estimateRequestTokens, sentSize } from "@tessera/imaging";
import type { ImageRef, JobPayload } from "@tessera/queue";
import { requestTask, requestTexts, type BoundTask } from "@tessera/tasks";
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
  constructor(cause: TesseraError) {
    super(cause.message);
    this.name = "RetryLater";
    this.cause = cause;
  }
}

/**
 * Annotates the images of one request (1..N): its units (each image, or a compare set as a whole)
 * already accounted for are left alone; the request takes budget and rate-limit capacity as a
 * whole (from the headers' sizes, before any download); each image is fetched, oriented and
 * resized, and a unit with an image that cannot be sent fails on its own while the rest go; the
 * answer is split back per unit, each written and recorded with its share of the bill. Returns
 * each unit's outcome in order, or throws RetryLater when another attempt may succeed (units
 * recorded by then are not sent again).
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
  const bound = taskOf(run);
  const refsOf = (list: readonly { refs: ImageRef[] }[]) => list.flatMap((u) => u.refs);
  const inputTokens = (task: BoundTask, sizes: { width: number; height: number }[]) =>
    estimateRequestTokens(run.model, sizes, requestTexts(task.build(sizes.length)));
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
      const tokens = inputTokens(requestTask(bound, planned), sizes);
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
    // Input tokens of this request as sent: reserved, admitted and recorded beside the bill.
    const tokens = inputTokens(
      task,
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
      task.build(prepared.length),
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
    let offset = 0;
    for (const [index, { unit, images }] of ready.entries()) {
      const first = offset;
      offset += images.length;
      const outcome = parsed.perImage[index];
      if (!outcome?.ok) {
        // Paid for but unusable: this unit fails with the reason, the others stand.
        await request.settle(
          unit,
          "failed",
          {
            class: "unparseable",
            message: outcome ? `${outcome.code}: ${outcome.error}` : "no result in the answer",
          },
          { usage: usages[index]!, costMicros: costs[index]! },
        );
        continue;
      }
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
          ],
          configHash: task.configHash,
          usage: usages[index]!,
          position: { index, of: ready.length },
        },
        startedAt,
      );
      await request.done(unit, annotation, costs[index]!, estimates[index]!);
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
    for (const unit of ready.length > 0 ? ready.map((r) => r.unit) : open) {
      await request.settle(unit, status, { class: error.errorClass, message: error.message });
    }
    return result();
  }
}
