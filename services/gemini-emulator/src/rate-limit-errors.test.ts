import { describe, expect, it } from "vitest";
import { goDuration, rateLimitExceeded, retryInfoDelay } from "./rate-limit-errors.ts";

describe("rateLimitExceeded", () => {
  it("names each exhausted limit like the API, then QuotaFailure, Help and RetryInfo in that order", () => {
    const error = rateLimitExceeded(
      "gemini-2.5-flash",
      [
        { kind: "rpm", limit: 10, retryDelayMs: 7190 },
        { kind: "tpm", limit: 250_000, retryDelayMs: 3000 },
      ],
      7190,
      "free",
    );
    expect(error.code).toBe(429);
    expect(error.body.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(error.message).toMatch(
      /^You exceeded your current quota, please check your plan and billing details\./,
    );
    expect(error.message).toContain(
      "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, " +
        "limit: 10, model: gemini-2.5-flash\n* Quota exceeded for metric: " +
        "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, limit: 250000, " +
        "model: gemini-2.5-flash\nPlease retry in 7.19s.",
    );
    expect(error.body.error.details).toEqual([
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            quotaDimensions: { location: "global", model: "gemini-2.5-flash" },
            quotaValue: "10",
          },
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
            quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
            quotaDimensions: { location: "global", model: "gemini-2.5-flash" },
            quotaValue: "250000",
          },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [
          {
            description: "Learn more about Gemini API quotas",
            url: "https://ai.google.dev/gemini-api/docs/rate-limits",
          },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "8s" },
    ]);
  });

  it("uses the paid tiers' quota names for tier1..3", () => {
    const error = rateLimitExceeded(
      "gemini-2.5-pro",
      [{ kind: "rpd", limit: 10_000, retryDelayMs: 5 }],
      5,
      "tier1",
    );
    expect(error.body.error.details[0]).toMatchObject({
      violations: [
        {
          quotaMetric: "generativelanguage.googleapis.com/generate_requests_per_model_per_day",
          quotaId: "GenerateRequestsPerDayPerProjectPerModel",
        },
      ],
    });
  });
});

describe("delays", () => {
  it("rounds RetryInfo up to whole seconds, never below one", () => {
    expect(retryInfoDelay(35_000)).toBe("35s");
    expect(retryInfoDelay(35_001)).toBe("36s");
    expect(retryInfoDelay(1)).toBe("1s");
  });

  it("writes message delays in Go's duration format", () => {
    expect(goDuration(250)).toBe("250ms");
    expect(goDuration(7190)).toBe("7.19s");
    expect(goDuration(90_000)).toBe("1m30s");
    expect(goDuration(82_049_500)).toBe("22h47m29.5s");
    expect(goDuration(3_600_000)).toBe("1h0m0s");
  });
});
