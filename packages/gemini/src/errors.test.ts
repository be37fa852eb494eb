import { ApiError } from "@google/genai";
import { describe, expect, it } from "vitest";
import { classifyGeminiError, parseRetryDelay } from "./errors.ts";

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

describe("parseRetryDelay", () => {
  it("parses protobuf durations", () => {
    expect(parseRetryDelay("19s")).toBe(19_000);
    expect(parseRetryDelay("0.25s")).toBe(250);
    expect(parseRetryDelay("soon")).toBeUndefined();
    expect(parseRetryDelay(undefined)).toBeUndefined();
  });
});
