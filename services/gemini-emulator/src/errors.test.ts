import { describe, expect, it } from "vitest";
import {
  EmulatorApiError,
  formatDuration,
  invalidApiKey,
  missingApiKey,
  modelNotFound,
  overloaded,
  quotaExceeded,
  unprocessableImage,
} from "./errors.ts";

describe("error bodies", () => {
  it("always carry code, message, status and details", () => {
    const error = new EmulatorApiError(500, "boom");
    expect(error.body).toEqual({ error: { code: 500, message: "boom", status: "INTERNAL", details: [] } });
    expect(Object.keys(error.body.error)).toEqual(["code", "message", "status", "details"]);
  });

  it("reject a missing key as an unregistered caller", () => {
    expect(missingApiKey().body.error).toMatchObject({ code: 403, status: "PERMISSION_DENIED" });
    expect(missingApiKey().message).toMatch(/^Method doesn't allow unregistered callers/);
  });

  it("reject a wrong key with the API_KEY_INVALID reason", () => {
    const { error } = invalidApiKey().body;
    expect(error).toMatchObject({
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "API key not valid. Please pass a valid API key.",
    });
    expect(error.details[0]).toEqual({
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: "generativelanguage.googleapis.com" },
    });
  });

  it("name the model and the API version when a model is unknown", () => {
    expect(modelNotFound("gemini-9", "v1beta", "countTokens").body.error).toMatchObject({
      code: 404,
      status: "NOT_FOUND",
      message: expect.stringMatching(
        /^models\/gemini-9 is not found for API version v1beta, or is not supported for countTokens\./,
      ) as unknown,
    });
  });

  it("give 429s a QuotaFailure and a RetryInfo with the configured delay", () => {
    const { error } = quotaExceeded("gemini-2.5-flash", 2).body;
    expect(error.status).toBe("RESOURCE_EXHAUSTED");
    expect(error.details.map((detail) => detail["@type"])).toEqual([
      "type.googleapis.com/google.rpc.QuotaFailure",
      "type.googleapis.com/google.rpc.RetryInfo",
    ]);
    expect(error.details[0]?.violations).toEqual([
      expect.objectContaining({ quotaDimensions: { location: "global", model: "gemini-2.5-flash" } }),
    ]);
    expect(error.details[1]?.retryDelay).toBe("2s");
    expect(quotaExceeded("m", 0.25).body.error.details[1]?.retryDelay).toBe("0.25s");
  });

  it("report overload as UNAVAILABLE and unreadable images with where and why", () => {
    expect(overloaded().body.error).toMatchObject({
      code: 503,
      status: "UNAVAILABLE",
      message: "The model is overloaded. Please try again later.",
    });
    const { error } = unprocessableImage("contents[0].parts[0].inline_data.data", "declared image/png").body;
    expect(error.message).toMatch(/^Unable to process input image\. Please retry or report in https:\/\//);
    expect(error.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        fieldViolations: [
          { field: "contents[0].parts[0].inline_data.data", description: "declared image/png" },
        ],
      },
    ]);
  });
});

describe("formatDuration", () => {
  it("writes protobuf Duration JSON", () => {
    expect(formatDuration(19)).toBe("19s");
    expect(formatDuration(1.5)).toBe("1.5s");
    expect(formatDuration(1 / 3)).toBe("0.333s");
  });
});
