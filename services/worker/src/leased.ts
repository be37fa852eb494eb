import type { JobPayload, Lease } from "@tessera/queue";
import { annotateRequest, type AnnotateOutcome, type Attempt } from "./annotate.ts";
import type { WorkerDeps } from "./deps.ts";
import { unitsOf } from "./units.ts";

/** Another worker holds an image of this request: try again once its lease lapses (not a failed attempt). */
export class LeaseHeld extends Error {
  readonly retryInMs: number;
  constructor(key: string, retryInMs: number) {
    super(`another worker is annotating ${key}; retrying in ${retryInMs} ms`);
    this.name = "LeaseHeld";
    this.retryInMs = retryInMs;
  }
}

/**
 * annotateRequest under a lease on each of its units (image, or compare set), so that two
 * deliveries of one request never both pay. annotateRequest checks for recorded outcomes (and
 * written or cached annotations) first, and does so after the leases are taken: the loser of a
 * race that retries later finds the winner's outcomes and pays nothing. Leases are taken in the
 * request's order and all given back when one is held elsewhere.
 */
export async function annotateLeased(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempt: Attempt,
): Promise<AnnotateOutcome[]> {
  if (!deps.leases) return annotateRequest(deps, payload, attempt);
  const taken: Lease[] = [];
  try {
    for (const unit of unitsOf(payload)) {
      const lease = await deps.leases.acquire(payload.runId, unit.key);
      if (!lease.ok) throw new LeaseHeld(unit.key, lease.heldForMs);
      taken.push(lease.lease);
    }
    return await annotateRequest(deps, payload, attempt);
  } finally {
    for (const lease of taken) await lease.release();
  }
}
