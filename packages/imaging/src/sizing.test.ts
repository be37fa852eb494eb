import { describe, expect, it } from "vitest";
import { fitInside, sentSize } from "./sizing.ts";
import { imageTokens } from "./tokens.ts";

const tokens2x = (size: { width: number; height: number }): number =>
  imageTokens(size, "gemini-2.5-flash").tokens;

describe("sentSize", () => {
  it("gives the documented figures for a 4032x3024 photo", () => {
    const photo = { width: 4032, height: 3024 };
    expect(sentSize(photo, "original")).toEqual(photo);
    expect(sentSize(photo, "standard")).toEqual({ width: 1024, height: 768 });
    expect(sentSize(photo, "low")).toEqual({ width: 384, height: 288 });
    expect([
      tokens2x(photo),
      tokens2x({ width: 1024, height: 768 }),
      tokens2x({ width: 384, height: 288 }),
    ]).toEqual([1032, 1032, 258]);
    expect(imageTokens(photo, "gemini-1.5-pro").tokens).toBe(6192);
    expect(imageTokens({ width: 1024, height: 768 }, "gemini-1.5-pro").tokens).toBe(1032);
  });

  it("gives the documented figures for a 3840x2160 (16:9) frame", () => {
    const frame = { width: 3840, height: 2160 };
    expect(sentSize(frame, "standard")).toEqual({ width: 1024, height: 576 });
    expect(sentSize(frame, "low")).toEqual({ width: 384, height: 216 });
    expect([tokens2x(frame), tokens2x({ width: 1024, height: 576 })]).toEqual([1548, 1548]);
  });

  it("fits 'low' inside 384x384, so Gemini 2.x charges 258 tokens, whatever the shape", () => {
    for (const [width, height] of [
      [4032, 3024],
      [3024, 4032],
      [10000, 20],
      [385, 385],
      [1920, 1080],
    ] as const) {
      const size = sentSize({ width, height }, "low");
      expect(Math.max(size.width, size.height)).toBe(384);
      expect(tokens2x(size)).toBe(258);
    }
  });

  it("never scales up", () => {
    expect(sentSize({ width: 200, height: 100 }, "low")).toEqual({ width: 200, height: 100 });
    expect(sentSize({ width: 1000, height: 1000 }, "standard")).toEqual({ width: 1000, height: 1000 });
    expect(fitInside({ width: 10, height: 1 }, 384)).toEqual({ width: 10, height: 1 });
  });

  it("keeps the 2.x tile count under 'standard' for every size up to 3:1", () => {
    const problems: string[] = [];
    for (let width = 385; width <= 6000; width += 13) {
      for (let height = Math.ceil(width / 3); height <= Math.min(6000, width * 3); height += 17) {
        const size = sentSize({ width, height }, "standard");
        const name = `${width}x${height} -> ${size.width}x${size.height}`;
        if (Math.max(size.width, size.height) > 1024) problems.push(`${name}: above 1024`);
        if (tokens2x(size) !== tokens2x({ width, height })) problems.push(`${name}: tile count changed`);
        // The ratio moves by at most a pixel's worth.
        const drift = Math.abs(size.width / size.height - width / height) / (width / height);
        if (drift > 1.5 / Math.min(size.width, size.height)) problems.push(`${name}: ratio drifts ${drift}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("takes another cap for 'standard'", () => {
    expect(sentSize({ width: 4000, height: 2000 }, "standard", 2048)).toEqual({ width: 2048, height: 1024 });
    expect(() => sentSize({ width: 10, height: 10 }, "standard", 0)).toThrow(RangeError);
  });
});
