import { UsageError } from "@tessera/core";
import type { EnqueueItem, ImageRef } from "@tessera/queue";
import type { IngestDeps } from "./deps.ts";
import { annotateJobId, setJobId } from "./job-ids.ts";
import { usesOf, type ImageSet } from "./sets.ts";

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
  const sets = run.sets === undefined ? undefined : (JSON.parse(run.sets) as ImageSet[]);
  const setKeys = new Map(sets?.map((set) => [set.id, set.keys]));
  const uses = sets === undefined ? undefined : usesOf(sets);
  const retryNumber = now.getTime();
  const jobs: { key: string; job: EnqueueItem<"annotate"> }[] = [];
  const ref = async (key: string, mime: string | undefined): Promise<ImageRef | undefined> => {
    const object = await source.head(key);
    if (!object) return undefined; // gone since: the failure stands
    return {
      key,
      etag: object.etag,
      size: object.size,
      mime: mime ?? "application/octet-stream",
      ...(questions[key] === undefined ? {} : { question: questions[key] }),
      ...(uses?.get(key) === undefined ? {} : { uses: uses.get(key) }),
    };
  };
  for (const item of failed) {
    const members = setKeys.get(item.key);
    // Failures go again one per request (a compare set as one): few, and alone they are isolated.
    const images =
      members === undefined
        ? [await ref(item.key, item.mime)]
        : await Promise.all(members.map((k) => ref(k, undefined)));
    if (images.some((image) => image === undefined)) continue;
    jobs.push({
      key: item.key,
      job: {
        jobId:
          members === undefined
            ? annotateJobId(runId, item.key, retryNumber)
            : setJobId(runId, item.key, retryNumber),
        payload: {
          runId,
          images: images as ImageRef[],
          ...(members === undefined ? {} : { set: { id: item.key } }),
        },
      },
    });
  }
  const reset = new Set(
    await deps.runs.resetFailed(
      runId,
      jobs.map((j) => j.key),
      now,
    ),
  );
  await deps.producer.addBulk(
    "annotate",
    jobs.filter((j) => reset.has(j.key)).map((j) => j.job),
  );
  deps.log.info("retrying failed images", { runId, retried: reset.size });
  return { retried: reset.size };
}
