/**
 * How a failure should be treated by the queue. Every error Tessera raises while processing an
 * image maps to exactly one class, so retry policy lives in one place (the worker) and the
 * manifest can say why an image did not get an annotation.
 */
export const ERROR_CLASSES = [
  "transient", // 5xx, timeouts, resets: retry with backoff
  "rate_limited", // 429: pause the whole queue, does not use up an attempt
  "permanent", // 4xx request errors: never retried
  "bad_image", // undecodable, unsupported, too large: never retried
  "blocked", // safety filters: recorded, never retried
  "unparseable", // the model answered something we cannot read
  "source_changed", // the object changed between listing and processing
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export class TesseraError extends Error {
  readonly errorClass: ErrorClass;
  /** Milliseconds the server asked us to wait (429 RetryInfo), when it said so. */
  readonly retryDelayMs: number | undefined;

  constructor(errorClass: ErrorClass, message: string, options?: { cause?: unknown; retryDelayMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TesseraError";
    this.errorClass = errorClass;
    this.retryDelayMs = options?.retryDelayMs;
  }

  get retryable(): boolean {
    return this.errorClass === "transient" || this.errorClass === "rate_limited";
  }
}

/** A user-facing problem with flags, environment or locations: printed, exit code 2, nothing done. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
