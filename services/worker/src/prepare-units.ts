import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import { TesseraError, errorMessage } from "@tessera/core";
import { prepareImage, type PreparedImage } from "@tessera/imaging";
import type { ImageRef, RunState } from "@tessera/queue";
import type { WorkerDeps } from "./deps.ts";
import { fetchImage } from "./fetch-image.ts";
import type { RequestRecorder } from "./request-recorder.ts";
import { unsendable } from "./send.ts";
import type { Unit } from "./units.ts";
import { SPATIAL_TASKS } from "./exports.ts";

/**
 * Fetch-and-prepare slots shared by every job of this process. Decoding and resizing are CPU
 * work (no faster past the cores), and a source image is held in memory from its download until
 * it is resized: without this bound a request of thousands of images, or many jobs at once,
 * would hold every original at the same time.
 */
const prepareSlots = pLimit(Math.max(2, availableParallelism()));

export interface Attempt {
  /** 1-based number of this attempt. */
  number: number;
  max: number;
}

export interface Prepared {
  ref: ImageRef;
  /** The original's size in bytes. */
  sourceBytes: number;
  /** The original, kept only for tasks that draw a preview on it (detect, segment). */
  source?: Buffer;
  image: PreparedImage;
}

/** A unit whose images were all fetched and prepared. */
export interface ReadyUnit {
  unit: Unit;
  images: Prepared[];
}

export const asTessera = (err: unknown): TesseraError =>
  err instanceof TesseraError ? err : new TesseraError("transient", errorMessage(err), { cause: err });

export /**
 * Fetches and prepares every image. A unit with an image that is broken, changed or too big to
 * send fails on its own here and is left out of the request (a set fails whole: it cannot be
 * compared without a member); a transient read error retries the whole request while attempts
 * remain (nothing has been paid yet), and on the last attempt fails that unit.
 */
async function prepareAll(
  deps: WorkerDeps,
  run: RunState,
  units: readonly Unit[],
  attempt: Attempt,
  request: RequestRecorder,
): Promise<ReadyUnit[]> {
  const settled = await Promise.all(
    units.map((unit) =>
      Promise.allSettled(
        unit.refs.map((ref) =>
          prepareSlots(async (): Promise<Prepared> => {
            const bytes = await fetchImage(deps, run, ref);
            const image = await prepareImage(bytes, { detail: run.detail, convert: run.convert });
            const refused = unsendable(deps, run, image);
            if (refused) throw refused;
            const keep = SPATIAL_TASKS.has(run.task) ? { source: bytes } : {};
            return { ref, sourceBytes: bytes.length, ...keep, image };
          }),
        ),
      ),
    ),
  );
  const failures = settled.flat().flatMap((s) => (s.status === "rejected" ? [asTessera(s.reason)] : []));
  const retry = failures.find((e) => e.retryable && attempt.number < attempt.max);
  if (retry) throw retry;
  const ready: ReadyUnit[] = [];
  for (const [index, results] of settled.entries()) {
    const unit = units[index]!;
    const failed = results.findIndex((s) => s.status === "rejected");
    if (failed === -1) {
      ready.push({ unit, images: results.map((s) => (s as PromiseFulfilledResult<Prepared>).value) });
      continue;
    }
    const error = asTessera((results[failed] as PromiseRejectedResult).reason);
    const key = unit.refs[failed]!.key;
    deps.log.warn("image failed", {
      runId: run.runId,
      key,
      errorClass: error.errorClass,
      error: error.message,
    });
    const message = unit.set ? `member ${key}: ${error.message}` : error.message;
    await request.settle(unit, "failed", { class: error.errorClass, message });
  }
  return ready;
}
