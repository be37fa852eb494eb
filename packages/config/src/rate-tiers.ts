/**
 * Published Gemini API rate limits per usage tier (gemini-2.5-flash, mid-2025; see
 * shared design notes). Accounts differ and Google revises these: read your own in AI Studio and
 * set TESSERA_RPM / TESSERA_TPM / TESSERA_RPD when they differ. The figures are applied to every
 * model unless overridden, which is conservative for Flash-Lite and generous for Pro.
 */
export const RATE_TIERS = {
  free: { rpm: 10, tpm: 250_000, rpd: 250 },
  tier1: { rpm: 1_000, tpm: 1_000_000, rpd: 10_000 },
  tier2: { rpm: 2_000, tpm: 3_000_000, rpd: 100_000 },
  tier3: { rpm: 10_000, tpm: 8_000_000 },
  unlimited: {},
} as const satisfies Record<string, { rpm?: number; tpm?: number; rpd?: number }>;

export type RateTier = keyof typeof RATE_TIERS;
export const RATE_TIER_NAMES = Object.keys(RATE_TIERS) as [RateTier, ...RateTier[]];
