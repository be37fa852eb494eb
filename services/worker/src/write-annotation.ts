import { ANNOTATION_SCHEMA_VERSION, annotationSchema, type Annotation, type Usage } from "@tessera/core";
import type { GenerateResult } from "@tessera/gemini";
import type { PreparedImage } from "@tessera/imaging";
import type { ImageRef, RunState } from "@tessera/queue";
import type { TaskResult } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { putAnnotation } from "./annotation-cache.ts";
import { writePreview } from "./preview.ts";
import type { Transport } from "./send.ts";
import type { Unit } from "./units.ts";

/** An image of a unit as it was sent. */
export interface SentImage {
  ref: ImageRef;
  sourceBytes: number;
  /** The original, for the tasks that draw a preview on it. */
  source?: Buffer;
  image: PreparedImage;
  transport: Transport;
}

/** One unit's part of a request's answer, ready to be written. */
export interface UnitAnswer {
  unit: Unit;
  images: SentImage[];
  result: TaskResult;
  partial: boolean;
  warnings: string[];
  configHash: string;
  /** This unit's share of the bill (the whole bill when it was the request's only unit). */
  usage: Usage;
  /** Where it sat among the request's units. */
  position: { index: number; of: number };
}

/** Writes the unit's annotation (and, for detect and segment, its preview); returns it. */
export async function writeAnnotation(
  deps: WorkerDeps,
  run: RunState,
  answer: GenerateResult,
  item: UnitAnswer,
  startedAt: Date,
): Promise<Annotation> {
  const source = deps.storage(run.source);
  const described = item.images.map(({ ref, sourceBytes, image, transport }) => ({
    source: {
      uri: source.describe(ref.key),
      key: ref.key,
      etag: ref.etag,
      mime: image.source.mime,
      width: image.source.displayWidth,
      height: image.source.displayHeight,
      bytes: sourceBytes,
    },
    sent: {
      width: image.width,
      height: image.height,
      mime: image.mime,
      bytes: image.bytes.length,
      detail: run.detail,
      transport,
    },
  }));
  const first = described[0]!;
  const annotation: Annotation = annotationSchema.parse({
    schemaVersion: ANNOTATION_SCHEMA_VERSION,
    runId: run.runId,
    task: run.task,
    model: run.model,
    modelVersion: answer.modelVersion,
    responseId: answer.responseId,
    source: first.source,
    sent: first.sent,
    result: item.result,
    configHash: item.configHash,
    partial: item.partial,
    usage: item.usage,
    ...(item.position.of > 1
      ? { request: { images: item.position.of, position: item.position.index + 1, usage: answer.usage } }
      : {}),
    ...(item.unit.set
      ? { set: { id: item.unit.set.id, members: described.map((d) => ({ ...d.source, sent: d.sent })) } }
      : {}),
    finishReason: answer.finishReason,
    warnings: item.warnings,
    startedAt: startedAt.toISOString(),
    completedAt: deps.now().toISOString(),
  } satisfies Annotation);
  await putAnnotation(deps, run, item.unit.annotationKey, annotation);
  // Only the tasks that draw a preview keep the original (prepare-units.ts); the rest draw nothing.
  const original = item.images[0]?.source;
  if (original) await writePreview(deps, run, item.unit.key, annotation, () => Promise.resolve(original));
  return annotation;
}
