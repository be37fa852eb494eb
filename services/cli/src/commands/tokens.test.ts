import { describe, expect, it } from "vitest";
import { UsageError } from "@tessera/core";
import { parseSize } from "./tokens.ts";

describe("parseSize", () => {
  it("reads WxH", () => {
    expect(parseSize("960x540")).toEqual({ width: 960, height: 540 });
    expect(parseSize(" 4032X3024 ")).toEqual({ width: 4032, height: 3024 });
  });
  it.each(["960", "0x10", "10x-1", "axb", "1.5x2"])("rejects %s naming the argument", (bad) => {
    expect(() => parseSize(bad)).toThrow(UsageError);
    expect(() => parseSize(bad)).toThrow(/size: expected <width>x<height>/);
  });
});
