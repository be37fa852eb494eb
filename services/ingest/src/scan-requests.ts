import type { ScanFigures, ScanPlan } from "./scan.ts";
import {
  estimateRequestTokens,
  estimateTextTokens,
  sentSize,
  type ProbeResult,
} from "@tessera/imaging/header";
import type { EnqueueItem, ImageRef } from "@tessera/queue";
import type { ObjectInfo } from "@tessera/storage";
import { requestTask, requestTexts } from "@tessera/tasks";
import { annotateJobId } from "./job-ids.ts";
import { RequestPacker, type PlanImage } from "./plan.ts";

/** An image on its way into a request; a placeholder holds its place but is not sent. */
export type Candidate = PlanImage & {
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

/** An image of the listing as the packer and the job see it. */
export function candidateOf(
  plan: ScanPlan,
  object: ObjectInfo,
  probe: ProbeResult,
  question: string | undefined,
): Candidate {
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
}

/**
 * A scan's requests: images packed (in the order given) within the run's limits, each closed
 * request priced as the worker will send it and turned into one job, waiting to be enqueued.
 */
export class ScanRequests {
  readonly maxImages: number;
  readonly #plan: ScanPlan;
  readonly #figures: ScanFigures;
  readonly #packer: RequestPacker<Candidate>;
  #jobs: EnqueueItem<"annotate">[] = [];

  constructor(plan: ScanPlan, figures: ScanFigures) {
    this.#plan = plan;
    this.#figures = figures;
    this.maxImages = Math.min(plan.imagesPerRequest, plan.limits.maxImagesPerRequest);
    this.#packer = new RequestPacker<Candidate>(
      {
        maxImages: this.maxImages,
        maxInlineBytes: plan.limits.maxInlineBytes,
        maxInputTokens: plan.limits.maxInputTokens,
        // The prompt's largest form: labels for every image of a full request.
        promptTokens: textTokens(requestTexts(plan.task.build(this.maxImages))),
      },
      plan.transport,
    );
  }

  /** Packs an image; returns why, when it fits in no request (a placeholder is just dropped). */
  add(candidate: Candidate): string | undefined {
    const step = this.#packer.add(candidate);
    if (step.kind === "rejected") return candidate.placeholder ? undefined : step.reason;
    if (step.closed) this.#emit(step.closed);
    return undefined;
  }

  /** Closes the last request. */
  finish(): void {
    const last = this.#packer.flush();
    if (last) this.#emit(last);
  }

  get waiting(): number {
    return this.#jobs.length;
  }

  /** The jobs made so far, handed over once. */
  take(): EnqueueItem<"annotate">[] {
    const jobs = this.#jobs;
    this.#jobs = [];
    return jobs;
  }

  /**
   * One request: priced as the worker will send it, enqueued as one job. Its job id covers every
   * key of the group, placeholders included, so a resumed scan forms the same id for the same
   * group and BullMQ ignores it if the first scan's job is still there.
   */
  #emit(group: readonly Candidate[]): void {
    const plan = this.#plan;
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
    const figures = this.#figures;
    figures.estimatedPromptTokens += tokens;
    figures.requests++;
    const textShare = (tokens - sent.reduce((sum, g) => sum + g.tokens, 0)) / sent.length;
    for (const g of sent) figures.imageTokens.push(Math.round(g.tokens + textShare));
    this.#jobs.push({ jobId, payload: { runId: plan.runId, images: refs } });
  }
}
