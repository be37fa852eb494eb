import type { Producer } from "./producer.ts";
import type { RunStore } from "./run-store.ts";

/**
 * Enqueues the finalize job of a run that reached "finalizing". The job id names the moment the
 * run got there (processedAt), so enqueuing twice for one transition adds one job, while a run
 * reopened by `retry` and finished again gets a new one.
 */
export async function enqueueFinalize(runs: RunStore, producer: Producer, runId: string): Promise<boolean> {
  const run = await runs.get(runId);
  if (run?.status !== "finalizing") return false;
  const stamp = (run.processedAt ?? "").replace(/[^0-9A-Za-z]/g, "");
  await producer.add("finalize-run", { jobId: `finalize-${runId}-${stamp}`, payload: { runId } });
  return true;
}

/**
 * Re-enqueues finalize jobs for recent runs stuck in "finalizing": the process that completed a
 * run may have died between recording the last outcome and enqueuing the job.
 */
export async function sweepFinalizing(runs: RunStore, producer: Producer, recent = 500): Promise<number> {
  let enqueued = 0;
  for (const runId of await runs.list(recent)) {
    if (await enqueueFinalize(runs, producer, runId)) enqueued++;
  }
  return enqueued;
}
