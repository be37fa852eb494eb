import { createHash } from "node:crypto";
import { annotationSchema, errorMessage, TesseraError, type Annotation } from "@tessera/core";
import { enqueueFinalize, type RunState } from "@tessera/queue";
import { AccessDeniedError, LocationNotFoundError, ObjectNotFoundError } from "@tessera/storage";
import { canonicalJson, requestTask } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { cacheFiles } from "./layout.ts";
import { taskOf } from "./task.ts";
import type { Unit } from "./units.ts";
import { writePreview } from "./preview.ts";

/**
 * The cross-run annotation cache: every annotation of one image a run writes is also stored under
 * the output location at a key derived from the object's identity (source URI + ETag) and
 * everything that shapes its answer (the config hash the image was asked with, which covers task,
 * parser version, model, options, request and a per-image question, plus the detail and convert
 * policies). A later run over the same objects with the same settings and the same --out copies
 * the annotation instead of paying for it again. Compare sets are not cached.
 *
 * Cost per image: one GET on the cache key (a miss is a 404), one extra PUT per annotation written.
 */

/** Runs already warned about in this process: one line, not one per image. */
const unreadableWarned = new Set<string>();

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** Everything besides the object itself that changes what Gemini is shown or asked. */
export function settingsHash(run: RunState, configHash: string): string {
  return sha256Hex(canonicalJson({ configHash, detail: run.detail, convert: run.convert }));
}

export function cacheKey(run: RunState, configHash: string, sourceUri: string, etag: string): string {
  return cacheFiles.entry(settingsHash(run, configHash), sha256Hex(`${sourceUri}\u0000${etag}`));
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
  unit: Unit,
): Promise<Annotation | undefined> {
  const ref = unit.refs[0];
  if (!run.cache || unit.set !== undefined || ref === undefined) return undefined;
  const out = deps.storage(run.out);
  const sourceUri = deps.storage(run.source).describe(ref.key);
  const configHash = requestTask(taskOf(run), unit.refs).configHash;
  const key = cacheKey(run, configHash, sourceUri, ref.etag);
  let raw: Buffer;
  try {
    raw = await out.get(key);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    // S3 answers 403, not 404, for a missing key to a caller without s3:ListBucket, and an output
    // may be write-only: a refused read is a miss, not a broken output.
    if (err instanceof AccessDeniedError) {
      if (!unreadableWarned.has(run.runId)) {
        unreadableWarned.add(run.runId);
        deps.log.warn("cannot read the annotation cache: images are sent", { error: err.message });
      }
      return undefined;
    }
    // Before any call: a vanished output is found here, not after paying.
    throw await outputUnusable(deps, run, err);
  }
  const entry = parseEntry(raw);
  if (
    !entry ||
    entry.source.uri !== sourceUri ||
    entry.source.etag !== ref.etag ||
    entry.configHash !== configHash
  ) {
    deps.log.warn("ignoring an annotation cache entry that does not match its key", { key });
    return undefined;
  }
  const annotation: Annotation = {
    ...entry,
    runId: run.runId,
    source: { ...entry.source, key: ref.key },
    cachedFrom: entry.cachedFrom ?? entry.runId,
  };
  await putOutput(deps, run, unit.annotationKey, JSON.stringify(annotation, null, 2) + "\n");
  await writePreview(deps, run, unit.key, annotation, () =>
    deps.storage(run.source).get(ref.key, { ifMatch: ref.etag, maxBytes: deps.maxSourceBytes }),
  );
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
export async function putAnnotation(
  deps: WorkerDeps,
  run: RunState,
  annotationKey: string,
  annotation: Annotation,
): Promise<void> {
  await putOutput(deps, run, annotationKey, JSON.stringify(annotation, null, 2) + "\n");
  await storeInCache(deps, run, annotation);
}

/**
 * Puts an annotation this run holds into the cache: after writing it, and when a retry finds one
 * a crashed attempt wrote (the crash may have come before the cache entry).
 */
export async function storeInCache(deps: WorkerDeps, run: RunState, annotation: Annotation): Promise<void> {
  if (annotation.set !== undefined) return;
  const key = cacheKey(run, annotation.configHash, annotation.source.uri, annotation.source.etag);
  try {
    await deps.storage(run.out).put(key, JSON.stringify(annotation, null, 2) + "\n", {
      contentType: "application/json",
    });
  } catch (err) {
    deps.log.warn("could not store the annotation in the cache", { key, error: errorMessage(err) });
  }
}

async function putOutput(deps: WorkerDeps, run: RunState, key: string, body: string): Promise<void> {
  try {
    await deps.storage(run.out).put(key, body, { contentType: "application/json" });
  } catch (err) {
    throw await outputUnusable(deps, run, err);
  }
}

/**
 * A bucket that no longer exists or refuses writes will not heal by retrying, and every further
 * image would be paid for and then lost: the run is halted (queued images are not sent, it ends
 * "failed" with this reason) and this image fails without a retry. Other errors pass through.
 */
async function outputUnusable(deps: WorkerDeps, run: RunState, err: unknown): Promise<unknown> {
  if (!(err instanceof LocationNotFoundError || err instanceof AccessDeniedError)) return err;
  const reason = `the output ${deps.storage(run.out).describe()} cannot be used: ${err.message}`;
  deps.log.error("halting the run", { runId: run.runId, error: reason });
  if ((await deps.runs.halt(run.runId, reason)) === "finalize") {
    await enqueueFinalize(deps.runs, deps.producer, run.runId);
  }
  return new TesseraError("permanent", reason, { cause: err });
}
