// Every storage failure is one of these classes so callers can branch on `instanceof` (or on
// `code`, which survives structured cloning into job payloads and logs). Messages always name the
// location through describe()/formatLocation(), which never carries credentials or signed URLs.

export type StorageErrorCode =
  | "STORAGE_ERROR"
  | "STORAGE_URI_INVALID"
  | "STORAGE_KEY_INVALID"
  | "LOCATION_NOT_FOUND"
  | "OBJECT_NOT_FOUND"
  | "PRECONDITION_FAILED"
  | "ACCESS_DENIED"
  | "OBJECT_TOO_LARGE"
  | "URL_REFUSED"
  | "URL_FETCH_FAILED";

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  /** describe() of the location or object the failure is about. */
  readonly where: string;

  constructor(message: string, where: string, options?: { cause?: unknown; code?: StorageErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? "STORAGE_ERROR";
    this.where = where;
  }
}

export class StorageUriError extends StorageError {
  readonly uri: string;

  constructor(uri: string, reason: string) {
    super(`invalid storage location "${uri}": ${reason}`, uri, { code: "STORAGE_URI_INVALID" });
    this.uri = uri;
  }
}

/** A key that is empty, absolute or climbs out of the location root with `.`/`..` segments. */
export class InvalidKeyError extends StorageError {
  readonly key: string;

  constructor(key: string, where: string, reason: string) {
    super(`invalid key ${JSON.stringify(key)} under ${where}: ${reason}`, where, {
      code: "STORAGE_KEY_INVALID",
    });
    this.key = key;
  }
}

/** The bucket or the root directory itself does not exist (not a missing object). */
export class LocationNotFoundError extends StorageError {
  constructor(where: string, detail: string, cause?: unknown) {
    super(`${where}: ${detail}`, where, { cause, code: "LOCATION_NOT_FOUND" });
  }
}

export class ObjectNotFoundError extends StorageError {
  constructor(where: string, cause?: unknown) {
    super(`${where}: no such object`, where, { cause, code: "OBJECT_NOT_FOUND" });
  }
}

/** A conditional read or write (If-Match / If-None-Match) did not hold. */
export class PreconditionFailedError extends StorageError {
  readonly condition: string;

  constructor(where: string, condition: string, cause?: unknown) {
    super(`${where}: precondition failed (${condition})`, where, { cause, code: "PRECONDITION_FAILED" });
    this.condition = condition;
  }
}

export class AccessDeniedError extends StorageError {
  constructor(where: string, detail: string, cause?: unknown) {
    super(`${where}: access denied (${detail})`, where, { cause, code: "ACCESS_DENIED" });
  }
}

export class ObjectTooLargeError extends StorageError {
  readonly size: number;
  readonly maxBytes: number;

  /** `exact` is false when the size is only a lower bound: the read was cut off mid-stream. */
  constructor(where: string, size: number, maxBytes: number, exact = true) {
    super(
      `${where}: object is ${exact ? "" : "at least "}${size} bytes, more than the ${maxBytes} bytes allowed`,
      where,
      { code: "OBJECT_TOO_LARGE" },
    );
    this.size = size;
    this.maxBytes = maxBytes;
  }
}

/**
 * A URL source could not be fetched. `permanent` failures (a refused address, a 4xx, too many
 * redirects) will not pass on retry; the others (5xx, 429, timeouts, resets) may.
 */
export class UrlFetchError extends StorageError {
  readonly permanent: boolean;
  readonly status: number | undefined;

  constructor(
    where: string,
    detail: string,
    options: { permanent: boolean; refused?: boolean; status?: number; cause?: unknown },
  ) {
    super(`${where}: ${detail}`, where, {
      cause: options.cause,
      code: options.refused === true ? "URL_REFUSED" : "URL_FETCH_FAILED",
    });
    this.permanent = options.permanent;
    this.status = options.status;
  }
}

/** Failures retrying cannot fix: scans record them as permanent, not transient. */
export function isPermanentStorageError(err: unknown): boolean {
  return (
    err instanceof InvalidKeyError ||
    err instanceof AccessDeniedError ||
    err instanceof ObjectTooLargeError ||
    (err instanceof UrlFetchError && err.permanent)
  );
}
