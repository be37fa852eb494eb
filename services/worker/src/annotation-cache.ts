import { createHash } from "node:crypto";
import { annotationSchema, errorMessage, type Annotation } from "@tessera/core";
import type { JobPayload, RunState } from "@tessera/queue";
import { ObjectNotFoundError } from "@tessera/storage";
import { canonicalJson, locatedObjects, renderPreview, type ExportRecord } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { cacheFiles, runFiles } from "./layout.ts";
import { taskOf } from "./task.ts";

/**
 * The cross-run annotation cache: every annotation a run writes is also stored under the output
 * location at a key derived from the object's identity (source URI + ETag) and everything that
 * shapes its answer (the task's config hash, which covers task, parser version, model, options
 * and request, plus the detail and convert policies). A later run over the same objects with the
 * same settings and the same --out copies the annotation instead of paying for it again.
 *
 * Cost per image: one GET on the cache key (a miss is a 404), one extra PUT per annotation written.
 */

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** Everything besides the object itself that changes what Gemini is shown or asked. */
export function settingsHash(run: RunState): string {
  return sha256Hex(
    canonicalJson({ configHash: taskOf(run).configHash, detail: run.detail, convert: run.convert }),
  );
}

export function cacheKey(run: RunState, sourceUri: string, etag: string): string {
  return cacheFiles.entry(settingsHash(run), sha256Hex(`${sourceUri}\u0000${etag}`));
}

/**
 * When the cache holds an annotation of this very object (same key, same ETag) made with the same
 * settings, writes it into this run (re-rendering the preview of spatial tasks from the source,
 * which costs a read but no Gemini call) and returns it; else undefined. A run with caching off
 * never reads the cache. Storage errors other than a miss propagate (transient: retried), so an
 * unreachable cache never turns into a paid call.
 */
export async function reuseCachedAnnotation(
  deps: WorkerDeps,
  run: RunState,
  payload: JobPayload<"annotate">,
  annotationKey: string,
): Promise<Annotation | undefined> {
  if (!run.cache) return undefined;
  const out = deps.storage(run.out);
  const sourceUri = deps.storage(run.source).describe(payload.key);
  const key = cacheKey(run, sourceUri, payload.etag);
  let raw: Buffer;
  try {
    raw = await out.get(key);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
  const entry = parseEntry(raw);
  if (
    !entry ||
    entry.source.uri !== sourceUri ||
    entry.source.etag !== payload.etag ||
    entry.configHash !== taskOf(run).configHash
  ) {
    deps.log.warn("ignoring an annotation cache entry that does not match its key", { key });
    return undefined;
  }
  const annotation: Annotation = {
    ...entry,
    runId: run.runId,
    source: { ...entry.source, key: payload.key },
    cachedFrom: entry.cachedFrom ?? entry.runId,
  };
  await out.put(annotationKey, JSON.stringify(annotation, null, 2) + "\n", {
    contentType: "application/json",
  });
  const objects = locatedObjects({
    task: run.task,
    result: annotation.result,
    source: annotation.source,
  } as ExportRecord);
  if (objects !== undefined) {
    const bytes = await deps.storage(run.source).get(payload.key, {
      ifMatch: payload.etag,
      maxBytes: deps.maxSourceBytes,
    });
    await out.put(runFiles.preview(run.runId, payload.key), await renderPreview(bytes, objects), {
      contentType: "image/png",
    });
  }
  return annotation;
}

function parseEntry(raw: Buffer): Annotation | undefined {
  try {
    const parsed = annotationSchema.safeParse(JSON.parse(raw.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes a new annotation into its run, then into the cache. The run's copy goes first: a crash
 * in between leaves an annotation the retry finds and records as paid, never a cache entry the
 * retry would mistake for an earlier run's. A failed cache write only costs a later run a call.
 */
export async function writeAnnotation(
  deps: WorkerDeps,
  run: RunState,
  annotationKey: string,
  annotation: Annotation,
): Promise<void> {
  const out = deps.storage(run.out);
  const body = JSON.stringify(annotation, null, 2) + "\n";
  await out.put(annotationKey, body, { contentType: "application/json" });
  const key = cacheKey(run, annotation.source.uri, annotation.source.etag);
  try {
    await out.put(key, body, { contentType: "application/json" });
  } catch (err) {
    deps.log.warn("could not store the annotation in the cache", { key, error: errorMessage(err) });
  }
}
