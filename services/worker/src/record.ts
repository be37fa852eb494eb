import { annotationSchema, errorMessage, type Annotation, type ManifestLine } from "@tessera/core";
import { enqueueFinalize, type JobPayload, type RunState } from "@tessera/queue";
import type { WorkerDeps } from "./deps.ts";
import { annotationOf, unitsOf, type Unit } from "./units.ts";

/** Records one image's final outcome; the last outcome of a run enqueues its finalize job. */
export async function record(
  deps: WorkerDeps,
  runId: string,
  line: ManifestLine,
  costMicros = 0,
  estimatedPromptTokens = 0,
): Promise<"recorded" | "duplicate" | "completed-run"> {
  const result = await deps.runs.recordItem(runId, line, { costMicros, estimatedPromptTokens });
  if (result === "completed-run") {
    await enqueueFinalize(deps.runs, deps.producer, runId);
  }
  return result;
}

export function doneLine(unit: Unit, annotation: Annotation, attempts: number, now: Date): ManifestLine {
  const { usage } = annotation;
  // A cached annotation was paid for by the run it came from: this run was billed nothing.
  const paid =
    annotation.cachedFrom === undefined
      ? { tokens: { prompt: usage.promptTokens, output: usage.outputTokens, image: usage.imageTokens } }
      : { cached: true };
  return {
    key: unit.key,
    etag: unit.etag,
    ...(unit.set ? { members: unit.set.members } : {}),
    status: "done",
    ...(unit.set ? {} : { mime: annotation.source.mime }),
    annotationKey: unit.annotationKey,
    ...paid,
    attempts,
    at: now.toISOString(),
  };
}

/** An annotation an earlier attempt wrote for this very unit (same objects, same ETags), if any. */
export async function findWrittenAnnotation(
  deps: WorkerDeps,
  run: RunState,
  unit: Unit,
): Promise<Annotation | undefined> {
  const out = deps.storage(run.out);
  if (!(await out.head(unit.annotationKey))) return undefined;
  const parsed = annotationSchema.safeParse(JSON.parse((await out.get(unit.annotationKey)).toString("utf8")));
  return parsed.success && annotationOf(unit, parsed.data) ? parsed.data : undefined;
}

/** Out of attempts on an error outside the images' own processing: every image of the job fails. */
export async function recordUnexpectedFailure(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempts: number,
  err: unknown,
): Promise<void> {
  for (const unit of unitsOf(payload)) {
    await record(deps, payload.runId, {
      key: unit.key,
      etag: unit.etag,
      ...(unit.set ? { members: unit.set.members } : {}),
      status: "failed",
      ...(unit.mime === undefined ? {} : { mime: unit.mime }),
      error: { class: "transient", message: `gave up after ${attempts} attempts: ${errorMessage(err)}` },
      attempts,
      at: deps.now().toISOString(),
    });
  }
}
