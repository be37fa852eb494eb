// Errors of the Files API and the resumable upload protocol, with the real API's messages where
// public records show them.
import { EmulatorApiError, invalidArgument } from "../errors.ts";

const RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits";

/** The API says the same for a file that never existed, was deleted, expired, or is someone else's. */
export function fileNotAccessible(id: string): EmulatorApiError {
  return new EmulatorApiError(
    403,
    `You do not have permission to access the File ${id} or it may not exist.`,
  );
}

/** PROCESSING and FAILED files alike. */
export function fileNotActive(id: string): EmulatorApiError {
  return new EmulatorApiError(
    400,
    `The File ${id} is not in an ACTIVE state and usage is not allowed.`,
    [],
    "FAILED_PRECONDITION",
  );
}

export function fileAlreadyExists(name: string): EmulatorApiError {
  return new EmulatorApiError(409, `File ${name} already exists.`);
}

export function invalidFileName(name: string): EmulatorApiError {
  return invalidArgument(
    `Invalid file name: "${name}". The id after "files/" takes up to 40 lowercase letters, digits or dashes, ` +
      "and cannot start or end with a dash.",
  );
}

export function fileTooLarge(limitBytes: number): EmulatorApiError {
  return invalidArgument(`File size exceeds the limit: ${limitBytes} bytes.`);
}

/**
 * The answer the API gives past the 20 GB of storage a project holds (public record of
 * FileStorageBytesPerProject): the same generic quota message as rate limits, a QuotaFailure on
 * file_storage_bytes, and a RetryInfo whose delay is the largest int64: waiting does not help,
 * deleting files does.
 */
export function storageQuotaExceeded(limitBytes: number): EmulatorApiError {
  return new EmulatorApiError(
    429,
    "You exceeded your current quota, please check your plan and billing details. For more information on " +
      `this error, head to: ${RATE_LIMITS_URL}.`,
    [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/file_storage_bytes",
            quotaId: "FileStorageBytesPerProject",
            quotaValue: String(limitBytes),
          },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [{ description: "Learn more about Gemini API quotas", url: RATE_LIMITS_URL }],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "9223372036854775807s" },
    ],
  );
}

export function onlyGeneratedDownloads(): EmulatorApiError {
  return invalidArgument("Only GENERATED files can be downloaded");
}

export function uploadSessionNotFound(): EmulatorApiError {
  return new EmulatorApiError(
    404,
    "Upload session not found, or it has already been finalized or cancelled.",
  );
}

/** Google does not publish this one's wording; what matters is the 400 and the two offsets. */
export function uploadOffsetMismatch(given: string, received: number): EmulatorApiError {
  return invalidArgument(
    `Invalid X-Goog-Upload-Offset ${given}: the upload session has received ${received} bytes, so the next ` +
      `chunk must start at offset ${received}.`,
  );
}

export function uploadSizeMismatch(declared: number, received: number): EmulatorApiError {
  return invalidArgument(
    `The upload was finalized with ${received} bytes, but X-Goog-Upload-Header-Content-Length declared ${declared}.`,
  );
}

export function badUploadRequest(reason: string): EmulatorApiError {
  return invalidArgument(`Invalid upload request: ${reason}`);
}
