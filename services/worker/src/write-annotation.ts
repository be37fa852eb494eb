import { ANNOTATION_SCHEMA_VERSION, annotationSchema, type Annotation, type Usage } from "@tessera/core";
import type { GenerateResult } from "@tessera/gemini";
import type { PreparedImage } from "@tessera/imaging";
import type { ImageRef, RunState } from "@tessera/queue";
import { locatedObjects, renderPreview, type ExportRecord, type TaskResult } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { runFiles } from "./layout.ts";
import type { Transport } from "./send.ts";

/** One image's part of a request's answer, ready to be written. */
export interface ImageAnswer {
  ref: ImageRef;
  /** The source bytes (the preview is drawn on them). */
  bytes: Buffer;
  image: PreparedImage;
  transport: Transport;
  result: TaskResult;
  partial: boolean;
  warnings: string[];
  configHash: string;
  /** This image's share of the bill (the whole bill when it was sent alone). */
  usage: Usage;
  /** Where it sat in a request of several images. */
  position: { index: number; of: number };
}

/** Writes the image's annotation (and, for detect and segment, its preview); returns it. */
export async function writeAnnotation(
  deps: WorkerDeps,
  run: RunState,
  answer: GenerateResult,
  item: ImageAnswer,
  startedAt: Date,
): Promise<Annotation> {
  const { ref, image } = item;
  const annotation: Annotation = annotationSchema.parse({
    schemaVersion: ANNOTATION_SCHEMA_VERSION,
    runId: run.runId,
    task: run.task,
    model: run.model,
    modelVersion: answer.modelVersion,
    responseId: answer.responseId,
    source: {
      uri: deps.storage(run.source).describe(ref.key),
      key: ref.key,
      etag: ref.etag,
      mime: image.source.mime,
      width: image.source.displayWidth,
      height: image.source.displayHeight,
      bytes: item.bytes.length,
    },
    sent: {
      width: image.width,
      height: image.height,
      mime: image.mime,
      bytes: image.bytes.length,
      detail: run.detail,
      transport: item.transport,
    },
    result: item.result,
    configHash: item.configHash,
    partial: item.partial,
    usage: item.usage,
    ...(item.position.of > 1
      ? { request: { images: item.position.of, position: item.position.index + 1, usage: answer.usage } }
      : {}),
    finishReason: answer.finishReason,
    warnings: item.warnings,
    startedAt: startedAt.toISOString(),
    completedAt: deps.now().toISOString(),
  } satisfies Annotation);
  const out = deps.storage(run.out);
  await out.put(runFiles.annotation(run.runId, ref.key), JSON.stringify(annotation, null, 2) + "\n", {
    contentType: "application/json",
  });
  const objects = locatedObjects({
    task: run.task,
    result: item.result,
    source: annotation.source,
  } as ExportRecord);
  if (objects !== undefined) {
    // A picture of what was found, drawn on the original (orientation applied).
    const preview = await renderPreview(item.bytes, objects);
    await out.put(runFiles.preview(run.runId, ref.key), preview, { contentType: "image/png" });
  }
  return annotation;
}
