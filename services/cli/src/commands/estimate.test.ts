import { describe, expect, it } from "vitest";
import { durationAtLimits } from "./estimate.ts";

describe("durationAtLimits", () => {
  it("is bound by whichever limit binds hardest", () => {
    expect(durationAtLimits(1_000, 100_000, { rpm: 500, tpm: 1_000_000 })).toEqual({
      ms: 120_000,
      bound: "rpm",
    });
    expect(durationAtLimits(100, 5_000_000, { rpm: 1_000, tpm: 1_000_000 })).toEqual({
      ms: 300_000,
      bound: "tpm",
    });
    // 25,000 requests at 10,000 a day take 2.5 days, whatever RPM allows.
    expect(durationAtLimits(25_000, 0, { rpm: 1_000, rpd: 10_000 })).toEqual({
      ms: 2.5 * 86_400_000,
      bound: "rpd",
    });
    expect(durationAtLimits(10, 10, {})).toEqual({ ms: 0, bound: "none" });
  });
});
