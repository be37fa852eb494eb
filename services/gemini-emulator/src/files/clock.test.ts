import { describe, expect, it } from "vitest";
import { createClock, manualClock } from "./clock.ts";

describe("createClock", () => {
  it("follows its base clock plus every advance", () => {
    let base = 1000;
    const clock = createClock({ now: () => base });
    clock.advance(500);
    base = 1100;
    expect(clock.now()).toBe(1600);
  });

  it("refuses to go back or jump by a non-number", () => {
    const clock = manualClock(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });
});
