// The published usage tiers and the names Google's quota system gives each limit, as they appear in
// a 429's QuotaFailure. Free-tier projects see the "-FreeTier" ids, paid tiers the others.

export type LimitKind = "rpm" | "tpm" | "rpd";

export const LIMIT_KINDS: readonly LimitKind[] = ["rpm", "tpm", "rpd"];

/** Undefined means unlimited; 0 refuses everything, as the API does for models a tier lacks. */
export interface RateLimits {
  rpm?: number;
  /** Input (prompt) tokens per minute; output tokens are not limited. */
  tpm?: number;
  rpd?: number;
}

export type TierName = "free" | "tier1" | "tier2" | "tier3";

/**
 * gemini-2.5-flash's published figures (mid-2025), applied to every served model: read your own
 * in AI Studio and override per model. The free tier's RPD was later cut to 20; this keeps 250 to
 * match the client-side presets in @tessera/config.
 */
export const RATE_LIMIT_TIERS: Readonly<Record<TierName, Readonly<RateLimits>>> = {
  free: { rpm: 10, tpm: 250_000, rpd: 250 },
  tier1: { rpm: 1_000, tpm: 1_000_000, rpd: 10_000 },
  tier2: { rpm: 2_000, tpm: 3_000_000, rpd: 100_000 },
  tier3: { rpm: 10_000, tpm: 8_000_000 },
};

export const TIER_NAMES = Object.keys(RATE_LIMIT_TIERS) as TierName[];

export function isTierName(value: string): value is TierName {
  return Object.hasOwn(RATE_LIMIT_TIERS, value);
}

export interface QuotaName {
  quotaMetric: string;
  quotaId: string;
}

const SERVICE = "generativelanguage.googleapis.com";

const QUOTA_NAMES: Record<"free" | "paid", Record<LimitKind, QuotaName>> = {
  free: {
    rpm: {
      quotaMetric: `${SERVICE}/generate_content_free_tier_requests`,
      quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    },
    tpm: {
      quotaMetric: `${SERVICE}/generate_content_free_tier_input_token_count`,
      quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
    },
    rpd: {
      quotaMetric: `${SERVICE}/generate_content_free_tier_requests`,
      quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
    },
  },
  paid: {
    rpm: {
      quotaMetric: `${SERVICE}/generate_requests_per_model`,
      quotaId: "GenerateRequestsPerMinutePerProjectPerModel",
    },
    tpm: {
      quotaMetric: `${SERVICE}/generate_content_paid_tier_input_token_count`,
      quotaId: "GenerateContentPaidTierInputTokensPerModelPerMinute",
    },
    rpd: {
      quotaMetric: `${SERVICE}/generate_requests_per_model_per_day`,
      quotaId: "GenerateRequestsPerDayPerProjectPerModel",
    },
  },
};

/** Custom limits without a tier are named like the free tier's, the ones most people meet. */
export function quotaName(kind: LimitKind, tier: TierName | undefined): QuotaName {
  return QUOTA_NAMES[tier === undefined || tier === "free" ? "free" : "paid"][kind];
}
