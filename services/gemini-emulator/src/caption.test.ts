import { describe, expect, it } from "vitest";
import { describeImage, describeImages } from "./caption.ts";
import type { ImageAnalysis } from "./image.ts";

const redAndBlue: ImageAnalysis = {
  width: 640,
  height: 480,
  colours: [
    { name: "red", hex: "#d01010", share: 0.7 },
    { name: "blue", hex: "#1030c0", share: 0.25 },
    { name: "white", hex: "#ffffff", share: 0.05 },
  ],
};

describe("describeImage", () => {
  it("names the size, the main colour and colours covering at least a tenth", () => {
    expect(describeImage(redAndBlue)).toBe("A 640x480 image, mostly red (#d01010), with blue (#1030c0).");
  });

  it("lists at most two secondary colours", () => {
    const busy: ImageAnalysis = {
      width: 10,
      height: 20,
      colours: [
        { name: "red", hex: "#ff0000", share: 0.4 },
        { name: "green", hex: "#00ff00", share: 0.2 },
        { name: "blue", hex: "#0000ff", share: 0.2 },
        { name: "white", hex: "#ffffff", share: 0.2 },
      ],
    };
    expect(describeImage(busy)).toBe(
      "A 10x20 image, mostly red (#ff0000), with green (#00ff00) and blue (#0000ff).",
    );
  });

  it("handles a single colour, full transparency and undecodable pixels", () => {
    expect(
      describeImage({ width: 1, height: 1, colours: [{ name: "gray", hex: "#808080", share: 1 }] }),
    ).toBe("A 1x1 image, mostly gray (#808080).");
    expect(describeImage({ width: 8, height: 8, colours: [] })).toBe("A 8x8 image, fully transparent.");
    expect(describeImage({ width: 1280, height: 854, colours: null })).toMatch(
      /^A 1280x854 image; .*unknown\.$/,
    );
  });
});

describe("describeImages", () => {
  it("writes one sentence per image, numbered, when there are several", () => {
    const second: ImageAnalysis = { width: 2, height: 3, colours: [] };
    expect(describeImages([redAndBlue, second])).toBe(
      "Image 1: A 640x480 image, mostly red (#d01010), with blue (#1030c0). Image 2: A 2x3 image, fully transparent.",
    );
    expect(describeImages([second])).toBe("A 2x3 image, fully transparent.");
    expect(describeImages([])).toMatch(/no image/);
  });
});
