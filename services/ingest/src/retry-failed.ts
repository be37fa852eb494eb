import { UsageError } from "@tessera/core";
import type { EnqueueItem } from "@tessera/queue";
import type { IngestDeps } from "./deps.ts";
import { annotateJobId } from "./scan.ts";

/**
 * Sends a run's failed images again: their outcomes are forgotten, the run reopens, and each gets
 * a fresh job (the current object is read, so a fixed file is picked up). Images that were done,
 * blocked or skipped are not touched, so nothing is paid twice.
 */
export async function retryFailed(
  deps: IngestDeps,
  runId: string,
  now = new Date(),
): Promise<{ retried: number }> {
  const run = await deps.runs.require(runId);
  if (!["completed", "budget_exhausted"].includes(run.status)) {
    throw new UsageError(`run ${runId} is ${run.status}: only a finished run's failures can be retried`);
  }
  const failed: { key: string; mime?: string }[] = [];
  for await (const line of deps.runs.items(runId)) {
    if (line.status === "failed") failed.push({ key: line.key, ...(line.mime ? { mime: line.mime } : {}) });
  }
  if (failed.length === 0) return { retried: 0 };

  const source = deps.storage(run.source);
  const questions = JSON.parse(run.questions ?? "{}") as Record<string, string>;
  const retryNumber = now.getTime();
  const jobs: EnqueueItem<"annotate">[] = [];
  const keys: string[] = [];
  for (const item of failed) {
    const object = await source.head(item.key);
    if (!object) continue; // gone since: its failure stands
    keys.push(item.key);
    jobs.push({
      jobId: annotateJobId(runId, item.key, retryNumber),
      // Failures go again one per request: few, and a request of their own isolates them.
      payload: {
        runId,
        images: [
          {
            key: item.key,
            etag: object.etag,
            size: object.size,
            mime: item.mime ?? "application/octet-stream",
            ...(questions[item.key] === undefined ? {} : { question: questions[item.key] }),
          },
        ],
      },
    });
  }
  const reset = new Set(await deps.runs.resetFailed(runId, keys, now));
  await deps.producer.addBulk(
    "annotate",
    jobs.filter((job) => reset.has(job.payload.images[0]!.key)),
  );
  deps.log.info("retrying failed images", { runId, retried: reset.size });
  return { retried: reset.size };
}
