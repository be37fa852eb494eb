import { errorMessage, TesseraError } from "@tessera/core";
import type { ImageRef, RunState } from "@tessera/queue";
import {
  AccessDeniedError,
  LocationNotFoundError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PreconditionFailedError,
  UrlFetchError,
} from "@tessera/storage";
import type { WorkerDeps } from "./deps.ts";

/** Reads the object the run listed (same ETag), with storage errors mapped to Tessera's classes. */
export async function fetchImage(deps: WorkerDeps, run: RunState, ref: ImageRef): Promise<Buffer> {
  const source = deps.storage(run.source);
  try {
    return await source.get(ref.key, { ifMatch: ref.etag, maxBytes: deps.maxSourceBytes });
  } catch (err) {
    if (err instanceof PreconditionFailedError) {
      throw new TesseraError("source_changed", "the object changed since the run listed it (ETag differs)", {
        cause: err,
      });
    }
    if (err instanceof ObjectNotFoundError) {
      throw new TesseraError("source_changed", "the object was deleted since the run listed it", {
        cause: err,
      });
    }
    if (err instanceof AccessDeniedError || err instanceof LocationNotFoundError) {
      // Retrying will not change a permission or bring a bucket back; `tessera retry --failed` can.
      throw new TesseraError("permanent", err.message, { cause: err });
    }
    if (err instanceof ObjectTooLargeError) {
      throw new TesseraError("bad_image", `source object larger than ${err.maxBytes} bytes`, {
        cause: err,
      });
    }
    if (err instanceof UrlFetchError) {
      // Refused addresses, 4xx and redirect loops stay so; 5xx, 429 and timeouts may pass.
      throw new TesseraError(err.permanent ? "permanent" : "transient", err.message, { cause: err });
    }
    throw new TesseraError("transient", `reading ${source.describe(ref.key)}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
