import { describe, expect, it } from "vitest";
import { answerQuestion } from "./answer-vqa.ts";
import { fakePhoto, fakeScene, fakeShape } from "./test-support/fake-scene.ts";

const scene = fakeScene([
  fakeShape("red", "circle", [0, 0, 300, 300]),
  fakeShape("blue", "circle", [400, 0, 600, 200]),
  fakeShape("blue", "square", [500, 500, 600, 600]),
]);

describe("answerQuestion", () => {
  it.each([
    ["How many shapes are there?", "3."],
    ["How many circles are in the image?", "2."],
    ["how many blue objects can you see", "2."],
    ["How many red squares are there?", "0."],
    ["How many different colours are there?", "2."],
    ["What colour is the square?", "Blue."],
    ["What color are the circles?", "Red and blue."],
    ["What colour is the background?", "White."],
    ["What colour is the triangle?", "There is no triangle in the image."],
    ["What shape is the red object?", "A circle."],
    ["What shape are the blue shapes?", "A circle and a square."],
    ["Is there a red circle?", "Yes."],
    ["Are there any triangles in the picture?", "No."],
    ["Does the image contain a blue square?", "Yes."],
  ])("%s -> %s", (question, answer) => {
    expect(answerQuestion(scene, question)).toBe(answer);
  });

  it("says the image does not show what sight cannot check, then what it shows", () => {
    const shown = "A 1000x1000 image of a red circle, a blue circle and a blue square on a white background.";
    expect(answerQuestion(scene, "How many people are in the photo?")).toBe(
      `The image does not show the answer. ${shown}`,
    );
    expect(answerQuestion(scene, "Why is the sky blue?")).toBe(
      `The image does not show the answer. ${shown}`,
    );
    expect(answerQuestion(fakePhoto([{ name: "red", share: 1 }]), "How many shapes are there?")).toBe(
      "The image does not show the answer. A 1000x1000 image, mostly red (#808080).",
    );
  });
});
