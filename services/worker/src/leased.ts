import type { JobPayload } from "@tessera/queue";
import { annotateImage, type AnnotateOutcome, type Attempt } from "./annotate.ts";
import type { WorkerDeps } from "./deps.ts";

/** Another worker holds this image: try again once its lease lapses (not a failed attempt). */
export class LeaseHeld extends Error {
  readonly retryInMs: number;
  constructor(key: string, retryInMs: number) {
    super(`another worker is annotating ${key}; retrying in ${retryInMs} ms`);
    this.name = "LeaseHeld";
    this.retryInMs = retryInMs;
  }
}

/**
 * annotateImage under the image's lease, so that two deliveries of one image never both pay.
 * annotateImage checks for a recorded outcome (and a written or cached annotation) first, and
 * does so after the lease is taken: the loser of a race that retries later finds the winner's
 * outcome and pays nothing.
 */
export async function annotateLeased(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempt: Attempt,
): Promise<AnnotateOutcome> {
  if (!deps.leases) return annotateImage(deps, payload, attempt);
  const taken = await deps.leases.acquire(payload.runId, payload.key);
  if (!taken.ok) throw new LeaseHeld(payload.key, taken.heldForMs);
  try {
    return await annotateImage(deps, payload, attempt);
  } finally {
    await taken.lease.release();
  }
}
