// The 429 the API sends when a quota runs out: a message naming each exhausted metric, then
// QuotaFailure, Help and RetryInfo details in the order the real answers carry them.
import { EmulatorApiError } from "./errors.ts";
import type { Violation } from "./rate-limit.ts";
import type { TierName } from "./rate-limit-tiers.ts";
import { quotaName } from "./rate-limit-tiers.ts";

const RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits";

export function rateLimitExceeded(
  model: string,
  violations: readonly Violation[],
  retryDelayMs: number,
  tier: TierName | undefined,
): EmulatorApiError {
  const named = violations.map((violation) => ({ ...violation, ...quotaName(violation.kind, tier) }));
  const message =
    "You exceeded your current quota, please check your plan and billing details. For more information on " +
    `this error, head to: ${RATE_LIMITS_URL}. To monitor your current usage, head to: ` +
    "https://ai.dev/usage?tab=rate-limit. \n" +
    named
      .map(
        (violation) =>
          `* Quota exceeded for metric: ${violation.quotaMetric}, limit: ${violation.limit}, model: ${model}\n`,
      )
      .join("") +
    `Please retry in ${goDuration(retryDelayMs)}.`;
  return new EmulatorApiError(429, message, [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: named.map((violation) => ({
        quotaMetric: violation.quotaMetric,
        quotaId: violation.quotaId,
        quotaDimensions: { location: "global", model },
        quotaValue: String(violation.limit),
      })),
    },
    {
      "@type": "type.googleapis.com/google.rpc.Help",
      links: [{ description: "Learn more about Gemini API quotas", url: RATE_LIMITS_URL }],
    },
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: retryInfoDelay(retryDelayMs) },
  ]);
}

/**
 * Whole seconds like the API's RetryInfo, but rounded up where the API truncates: a client that
 * waits exactly this long is then never told "too early" by the window that refused it.
 */
export function retryInfoDelay(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

/** Go's time.Duration format, which the API's message uses: "7.19s", "1m30s", "22h47m29.5s", "250ms". */
export function goDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${trim(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return `${hours > 0 ? `${hours}h` : ""}${hours > 0 || minutes > 0 ? `${minutes}m` : ""}${trim(seconds)}s`;
}

function trim(value: number): string {
  return String(Number(value.toFixed(3)));
}
