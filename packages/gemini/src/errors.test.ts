import { ApiError } from "@google/genai";
import { describe, expect, it } from "vitest";
import {
  FileUnavailableError,
  classifyGeminiError,
  isFileUnavailable,
  isStorageQuotaError,
  parseRetryDelay,
} from "./errors.ts";

function apiError(status: number, body: unknown): ApiError {
  return new ApiError({ status, message: JSON.stringify(body) });
}

describe("classifyGeminiError", () => {
  it("reads RetryInfo from a 429", () => {
    const err = classifyGeminiError(
      apiError(429, {
        error: {
          code: 429,
          status: "RESOURCE_EXHAUSTED",
          message: "Quota exceeded",
          details: [
            { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [] },
            { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "19s" },
          ],
        },
      }),
    );
    expect(err.errorClass).toBe("rate_limited");
    expect(err.retryDelayMs).toBe(19_000);
    expect(err.message).toBe("Gemini 429 RESOURCE_EXHAUSTED: Quota exceeded");
  });

  it.each([
    [400, "permanent"],
    [403, "permanent"],
    [404, "permanent"],
    [408, "transient"],
    [500, "transient"],
    [503, "transient"],
    [504, "transient"],
  ] as const)("maps HTTP %i to %s", (status, errorClass) => {
    expect(classifyGeminiError(apiError(status, { error: { code: status, message: "x" } })).errorClass).toBe(
      errorClass,
    );
  });

  it("treats network failures as transient and keeps non-JSON bodies readable", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(classifyGeminiError(new TypeError("fetch failed", { cause: reset })).message).toMatch(
      /ECONNRESET/,
    );
    expect(
      classifyGeminiError(new ApiError({ status: 502, message: "<html>bad gateway</html>" })).message,
    ).toBe("Gemini 502: <html>bad gateway</html>");
  });
});

describe("file errors", () => {
  it("marks a file that is gone or not ACTIVE, naming it, and leaves other 403s and 400s alone", () => {
    const gone = classifyGeminiError(
      apiError(403, {
        error: {
          code: 403,
          status: "PERMISSION_DENIED",
          message: "You do not have permission to access the File abc123 or it may not exist.",
        },
      }),
    );
    expect(gone).toBeInstanceOf(FileUnavailableError);
    expect(gone).toMatchObject({ errorClass: "transient", reason: "gone", fileName: "files/abc123" });
    const inactive = classifyGeminiError(
      apiError(400, {
        error: {
          code: 400,
          status: "FAILED_PRECONDITION",
          message: "The File files/x-9 is not in an ACTIVE state and usage is not allowed.",
        },
      }),
    );
    expect(isFileUnavailable(inactive)).toBe(true);
    expect(inactive).toMatchObject({ reason: "not_active", fileName: "files/x-9" });

    const key = classifyGeminiError(
      apiError(403, {
        error: {
          code: 403,
          status: "PERMISSION_DENIED",
          message: "Method doesn't allow unregistered callers",
        },
      }),
    );
    const invalid = classifyGeminiError(
      apiError(400, {
        error: { code: 400, status: "INVALID_ARGUMENT", message: "Unsupported MIME type: image/gif" },
      }),
    );
    for (const err of [key, invalid]) {
      expect(isFileUnavailable(err)).toBe(false);
      expect(err.errorClass).toBe("permanent");
    }
  });

  it("tells the storage quota's 429 from a rate limit", () => {
    const quotaFailure = {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [
        {
          quotaMetric: "generativelanguage.googleapis.com/file_storage_bytes",
          quotaId: "FileStorageBytesPerProject",
          quotaValue: "21474836480",
        },
      ],
    };
    const retry = (delay: string) => ({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: delay,
    });
    const quota = (details: unknown[]) =>
      apiError(429, { error: { code: 429, status: "RESOURCE_EXHAUSTED", message: "quota", details } });
    expect(isStorageQuotaError(quota([quotaFailure, retry("9223372036854775807s")]))).toBe(true);
    expect(isStorageQuotaError(quota([quotaFailure]))).toBe(true);
    expect(isStorageQuotaError(quota([retry("9223372036854775807s")]))).toBe(true);
    expect(isStorageQuotaError(quota([retry("19s")]))).toBe(false);
    expect(isStorageQuotaError(apiError(503, { error: { code: 503 } }))).toBe(false);
  });
});

describe("parseRetryDelay", () => {
  it("parses protobuf durations", () => {
    expect(parseRetryDelay("19s")).toBe(19_000);
    expect(parseRetryDelay("0.25s")).toBe(250);
    expect(parseRetryDelay("soon")).toBeUndefined();
    expect(parseRetryDelay(undefined)).toBeUndefined();
  });
});
