import { describe, expect, it } from "vitest";
import { dominantColours, nameColour, toHex } from "./palette.ts";

describe("nameColour", () => {
  it.each([
    ["#d01010", "red"],
    ["#1030c0", "blue"],
    ["#000080", "blue"],
    ["#00ff00", "green"],
    ["#ffff00", "yellow"],
    ["#ffa500", "orange"],
    ["#8b4513", "brown"],
    ["#00ffff", "cyan"],
    ["#800080", "purple"],
    ["#ff69b4", "pink"],
    ["#ffc0cb", "pink"],
    ["#000000", "black"],
    ["#1a1a1a", "black"],
    ["#808080", "gray"],
    ["#f0f0f0", "white"],
    ["#ffffff", "white"],
  ])("%s is %s", (hex, name) => {
    const value = Number.parseInt(hex.slice(1), 16);
    expect(nameColour((value >> 16) & 255, (value >> 8) & 255, value & 255)).toBe(name);
  });
});

describe("toHex", () => {
  it("rounds and pads each channel", () => {
    expect(toHex(0, 15.6, 255)).toBe("#0010ff");
  });
});

function pixels(...runs: [number, [number, number, number, number]][]): Uint8Array {
  return Uint8Array.from(runs.flatMap(([count, rgba]) => Array.from({ length: count }, () => rgba).flat()));
}

describe("dominantColours", () => {
  it("orders colours by pixel count and reports the mean of each group", () => {
    const result = dominantColours(
      pixels([6, [208, 16, 16, 255]], [2, [200, 20, 20, 255]], [2, [16, 48, 192, 255]]),
      4,
    );
    expect(result).toEqual([
      {
        name: "red",
        hex: toHex((6 * 208 + 2 * 200) / 8, (6 * 16 + 2 * 20) / 8, (6 * 16 + 2 * 20) / 8),
        share: 0.8,
      },
      { name: "blue", hex: "#1030c0", share: 0.2 },
    ]);
  });

  it("ignores mostly transparent pixels", () => {
    const result = dominantColours(pixels([1, [0, 255, 0, 255]], [9, [255, 0, 0, 10]]), 4);
    expect(result).toEqual([{ name: "green", hex: "#00ff00", share: 1 }]);
    expect(dominantColours(pixels([4, [255, 0, 0, 0]]), 4)).toEqual([]);
  });

  it("breaks ties by palette order, not by which colour came first", () => {
    const blueFirst = dominantColours(pixels([1, [0, 0, 255, 255]], [1, [255, 0, 0, 255]]), 4);
    expect(blueFirst.map((colour) => colour.name)).toEqual(["red", "blue"]);
  });

  it("reads 3-channel pixels", () => {
    expect(dominantColours(Uint8Array.from([255, 255, 255, 0, 0, 0, 0, 0, 0]), 3).map((c) => c.name)).toEqual(
      ["black", "white"],
    );
  });
});
