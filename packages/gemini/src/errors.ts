import { ApiError } from "@google/genai";
import { TesseraError } from "@tessera/core";

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: {
      "@type"?: string;
      retryDelay?: string;
      violations?: { quotaId?: string; quotaMetric?: string }[];
    }[];
  };
}

/**
 * A `fileData` part's file can no longer be used: deleted or expired (the API answers 403 as for
 * a file that never existed) or not ACTIVE (400 FAILED_PRECONDITION; the API also says this of
 * some expired files). The image itself is fine: forget the cached upload, upload it again and
 * retry once. Transient, so a caller that does not look for it still retries.
 */
export class FileUnavailableError extends TesseraError {
  readonly fileUnavailable = true;
  readonly reason: "gone" | "not_active";
  /** `files/{id}` as the API named it, to tell which part of a request failed. */
  readonly fileName: string;

  constructor(reason: "gone" | "not_active", fileName: string, message: string, cause: unknown) {
    super("transient", message, { cause });
    this.name = "FileUnavailableError";
    this.reason = reason;
    this.fileName = fileName;
  }
}

export function isFileUnavailable(err: unknown): err is FileUnavailableError {
  return err instanceof FileUnavailableError;
}

// The API's own wording (the emulator copies it from public records). A missing file and a refused
// API key both answer 403 PERMISSION_DENIED: only the message tells them apart.
const FILE_GONE = /You do not have permission to access the File (?:files\/)?([\w-]+) or it may not exist/;
const FILE_NOT_ACTIVE = /The File (?:files\/)?([\w-]+) is not in an ACTIVE state/;

function fileUnavailable(status: number, message: string, summary: string, cause: unknown) {
  const gone = status === 403 ? FILE_GONE.exec(message) : null;
  if (gone?.[1] !== undefined) return new FileUnavailableError("gone", `files/${gone[1]}`, summary, cause);
  const inactive = status === 400 ? FILE_NOT_ACTIVE.exec(message) : null;
  if (inactive?.[1] !== undefined) {
    return new FileUnavailableError("not_active", `files/${inactive[1]}`, summary, cause);
  }
  return undefined;
}

/** "19s", "0.5s", "1.250s" (protobuf Duration JSON) to milliseconds. */
export function parseRetryDelay(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

function parseBody(message: string): GoogleErrorBody["error"] {
  try {
    const body = JSON.parse(message) as GoogleErrorBody;
    return body.error;
  } catch {
    return undefined;
  }
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_SOCKET",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/** No rate window lasts this long: a RetryInfo beyond it means waiting will not help. */
const ABSURD_RETRY_DELAY_MS = 24 * 60 * 60 * 1000;

/**
 * The 429 the API answers past the project's Files API storage (20 GB): a QuotaFailure on
 * FileStorageBytesPerProject with a RetryInfo of the largest int64 seconds. Deleting files frees
 * it; pausing the queue for its RetryInfo would pause it for good.
 */
export function isStorageQuotaError(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.status !== 429) return false;
  const details = parseBody(err.message)?.details ?? [];
  const onStorage = details.some((d) =>
    d.violations?.some(
      (v) =>
        v.quotaId?.startsWith("FileStorageBytes") === true ||
        v.quotaMetric?.endsWith("file_storage_bytes") === true,
    ),
  );
  const retryInfo = details.find((d) => d["@type"]?.endsWith("google.rpc.RetryInfo"));
  const delayMs = parseRetryDelay(retryInfo?.retryDelay);
  return onStorage || (delayMs !== undefined && delayMs > ABSURD_RETRY_DELAY_MS);
}

/**
 * Maps whatever the SDK threw to Tessera's error classes. The SDK's ApiError carries the HTTP
 * status and the JSON body as its message; the body's RetryInfo tells how long a 429 lasts.
 */
export function classifyGeminiError(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  if (err instanceof ApiError) {
    const body = parseBody(err.message);
    const summary = `Gemini ${err.status}${body?.status ? ` ${body.status}` : ""}: ${body?.message ?? err.message}`;
    if (err.status === 429) {
      const retryInfo = body?.details?.find((d) => d["@type"]?.endsWith("google.rpc.RetryInfo"));
      const retryDelayMs = parseRetryDelay(retryInfo?.retryDelay);
      return new TesseraError(
        "rate_limited",
        summary,
        retryDelayMs === undefined ? { cause: err } : { cause: err, retryDelayMs },
      );
    }
    if (err.status === 408 || err.status >= 500)
      return new TesseraError("transient", summary, { cause: err });
    return (
      fileUnavailable(err.status, body?.message ?? err.message, summary, err) ??
      new TesseraError("permanent", summary, { cause: err })
    );
  }
  const code = networkCode(err);
  if (code !== undefined)
    return new TesseraError("transient", `network error talking to Gemini: ${code}`, { cause: err });
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) {
    return new TesseraError("transient", "Gemini request timed out", { cause: err });
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new TesseraError("transient", `network error talking to Gemini: ${err.message}`, { cause: err });
  }
  return new TesseraError("transient", `unexpected error calling Gemini: ${String(err)}`, { cause: err });
}
