import { annotationSchema, errorMessage, type Annotation, type ManifestLine } from "@tessera/core";
import { enqueueFinalize, type ImageRef, type JobPayload, type RunState } from "@tessera/queue";
import type { WorkerDeps } from "./deps.ts";

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

export function doneLine(
  ref: ImageRef,
  annotation: Annotation,
  annotationKey: string,
  attempts: number,
  now: Date,
): ManifestLine {
  const { usage } = annotation;
  return {
    key: ref.key,
    etag: ref.etag,
    status: "done",
    mime: annotation.source.mime,
    annotationKey,
    tokens: { prompt: usage.promptTokens, output: usage.outputTokens, image: usage.imageTokens },
    attempts,
    at: now.toISOString(),
  };
}

/** An annotation an earlier attempt wrote for this very object (same ETag), if any. */
export async function findWrittenAnnotation(
  deps: WorkerDeps,
  run: RunState,
  annotationKey: string,
  etag: string,
): Promise<Annotation | undefined> {
  const out = deps.storage(run.out);
  if (!(await out.head(annotationKey))) return undefined;
  const parsed = annotationSchema.safeParse(JSON.parse((await out.get(annotationKey)).toString("utf8")));
  return parsed.success && parsed.data.source.etag === etag ? parsed.data : undefined;
}

/** Out of attempts on an error outside the images' own processing: every image of the job fails. */
export async function recordUnexpectedFailure(
  deps: WorkerDeps,
  payload: JobPayload<"annotate">,
  attempts: number,
  err: unknown,
): Promise<void> {
  for (const ref of payload.images) {
    await record(deps, payload.runId, {
      key: ref.key,
      etag: ref.etag,
      status: "failed",
      mime: ref.mime,
      error: { class: "transient", message: `gave up after ${attempts} attempts: ${errorMessage(err)}` },
      attempts,
      at: deps.now().toISOString(),
    });
  }
}
