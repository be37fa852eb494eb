import {
  AccessDeniedError,
  LocationNotFoundError,
  ObjectNotFoundError,
  PreconditionFailedError,
  StorageError,
} from "./errors.ts";

export interface S3Failure {
  /** The S3 error code ("NoSuchBucket") or, for HEAD requests without a body, "NotFound" etc. */
  name: string;
  status: number | undefined;
  message: string;
}

/** Reads the fields the SDK puts on S3ServiceException (and on its network errors). */
export function s3Failure(error: unknown): S3Failure {
  if (!(error instanceof Error)) return { name: "Error", status: undefined, message: String(error) };
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  // RGW's error bodies carry a Code but no Message, which the SDK reports as "UnknownError".
  const message = error.message === "UnknownError" || error.message === error.name ? "" : error.message;
  return { name: error.name, status: metadata?.httpStatusCode, message };
}

export interface S3ErrorContext {
  /** describe() of the object (or of the root for location-wide calls). */
  where: string;
  /** describe() of the location root, for "bucket does not exist". */
  root: string;
  /** "listing", "reading", ... for the catch-all message. */
  doing: string;
  /** Set for conditional requests: names the condition in PreconditionFailedError. */
  condition?: string;
  /** A conditional put with If-Match: a missing key fails the condition rather than "not found". */
  missingIsPrecondition?: boolean;
  /** Where the endpoint appears in messages (credentials never do). */
  endpoint?: string;
}

export function mapS3Error(error: unknown, context: S3ErrorContext): Error {
  // An abort is the caller's own doing: let it through as the AbortError it is.
  if (error instanceof Error && error.name === "AbortError") return error;
  if (error instanceof StorageError) return error;
  const failure = s3Failure(error);
  const at = context.endpoint === undefined ? "" : ` at ${context.endpoint}`;
  if (failure.name === "NoSuchBucket") {
    return new LocationNotFoundError(context.root, `the bucket does not exist${at}`, error);
  }
  if (failure.status === 412 || failure.name === "PreconditionFailed") {
    return new PreconditionFailedError(context.where, context.condition ?? failure.name, error);
  }
  // AWS answers 409 when another conditional write to the same key is in flight: the condition
  // cannot be granted, which is what a write-once caller needs to hear.
  if (context.condition !== undefined && failure.name === "ConditionalRequestConflict") {
    return new PreconditionFailedError(context.where, `${context.condition} (concurrent write)`, error);
  }
  if (failure.status === 404 || failure.name === "NoSuchKey" || failure.name === "NotFound") {
    // AWS answers 404 to If-Match on a key that does not exist: for a put, the condition failed.
    if (context.missingIsPrecondition === true) {
      return new PreconditionFailedError(
        context.where,
        `${context.condition ?? "If-Match"}: the key does not exist`,
        error,
      );
    }
    return new ObjectNotFoundError(context.where, error);
  }
  if (failure.status === 403) {
    const detail = failure.message === "" ? failure.name : `${failure.name}: ${failure.message}`;
    return new AccessDeniedError(context.where, `${context.doing}${at}: ${detail}`, error);
  }
  if (failure.status === 301 || failure.name === "PermanentRedirect") {
    return new StorageError(
      `${context.where}: ${context.doing} failed: the bucket is in another region (S3Config.region)`,
      context.where,
      { cause: error },
    );
  }
  const status = failure.status === undefined ? "" : ` (HTTP ${failure.status})`;
  // Network errors are plain Errors: their message ("connect ECONNREFUSED ...") says it all.
  const what = [failure.name === "Error" ? "" : `${failure.name}${status}`, failure.message].filter(Boolean);
  return new StorageError(
    `${context.where}: ${context.doing} failed${at}: ${what.join(": ")}`,
    context.where,
    { cause: error },
  );
}
