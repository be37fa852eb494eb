import { describe, expect, it } from "vitest";
import { compareImages } from "./answer-compare.ts";
import { fakePhoto, fakeScene, fakeShape } from "./test-support/fake-scene.ts";

const keys = ["img_1", "img_2", "img_3"];
const circle = fakeShape("red", "circle", [0, 0, 200, 200]);
const square = fakeShape("blue", "square", [800, 800, 900, 900]);

describe("compareImages", () => {
  it("finds nothing to say about the same scene twice", () => {
    expect(compareImages([fakeScene([circle, square]), fakeScene([circle, square])], keys)).toEqual({
      summary: "There is no visible difference between the images.",
      differences: [],
    });
  });

  it("reports shapes that appear or are missing, against the first image", () => {
    const result = compareImages([fakeScene([circle]), fakeScene([square])], keys);
    expect(result.differences).toEqual([
      { description: "The red circle at the top left of img_1 is missing from img_2.", images: ["img_1"] },
      { description: "A blue square appears at the bottom right in img_2.", images: ["img_2"] },
    ]);
    expect(result.summary).toBe(
      "2 differences: the red circle is missing from img_2 and a blue square appears in img_2.",
    );
  });

  it("reports colour and shape changes in place, moves, and the background", () => {
    const recoloured = fakeShape("green", "circle", [10, 10, 210, 210]);
    const reshaped = fakeShape("blue", "triangle", [800, 800, 900, 900]);
    const moved = fakeShape("red", "circle", [700, 0, 900, 200]);
    const second = compareImages([fakeScene([circle, square]), fakeScene([recoloured, reshaped])], keys);
    expect(second.differences.map((d) => d.description)).toEqual([
      "The circle at the top left is red in img_1 and green in img_2.",
      "The blue shape at the bottom right is a square in img_1 and a triangle in img_2.",
    ]);
    const third = compareImages(
      [fakeScene([circle]), fakeScene([circle]), fakeScene([moved], "yellow")],
      keys,
    );
    expect(third.differences).toEqual([
      { description: "The background is white in img_1 and yellow in img_3.", images: ["img_1", "img_3"] },
      {
        description: "The red circle moved from the top left in img_1 to the top right in img_3.",
        images: ["img_1", "img_3"],
      },
    ]);
  });

  it("compares images without shapes by their colours", () => {
    const red = fakePhoto([{ name: "red", share: 1 }]);
    const blue = fakePhoto([{ name: "blue", share: 1 }]);
    expect(compareImages([red, red], keys).differences).toEqual([]);
    expect(compareImages([red, blue], keys).differences).toEqual([
      {
        description:
          "img_1: A 1000x1000 image, mostly red (#808080). img_2: A 1000x1000 image, mostly blue (#808080).",
        images: ["img_1", "img_2"],
      },
    ]);
  });
});
