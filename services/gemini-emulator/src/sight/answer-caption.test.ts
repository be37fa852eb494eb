import { describe, expect, it } from "vitest";
import { captionOf } from "./answer-caption.ts";
import { fakePhoto, fakeScene, fakeShape } from "./test-support/fake-scene.ts";

const scene = fakeScene([
  fakeShape("red", "circle", [50, 50, 250, 250]),
  fakeShape("orange", "square", [700, 700, 850, 850]),
]);

describe("captionOf", () => {
  it("names the shapes, largest first, on their background, after the image's size", () => {
    expect(captionOf(scene, "short")).toBe(
      "A 1000x1000 image of a red circle and an orange square on a white background.",
    );
  });

  it("says where each shape is at medium length, and which is largest when long", () => {
    expect(captionOf(scene, "medium")).toBe(
      "A 1000x1000 image of a red circle and an orange square on a white background. " +
        "The red circle is at the top left and the orange square at the bottom right.",
    );
    expect(captionOf(scene, "long")).toMatch(
      /The largest is the red circle; the smallest is the orange square\.$/,
    );
  });

  it("sums up crowded scenes by kind", () => {
    const kinds = ["circle", "circle", "square", "triangle", "circle"] as const;
    const crowded = fakeScene(
      kinds.map((kind, i) => fakeShape("blue", kind, [i * 100, 0, i * 100 + 50, 50])),
    );
    expect(captionOf(crowded, "short")).toBe(
      "A 1000x1000 image of 5 coloured shapes (3 circles, 1 square and 1 triangle) on a white background.",
    );
  });

  it("falls back to the colour caption for anything without shapes", () => {
    expect(captionOf(fakePhoto([{ name: "green", share: 1 }]), "short")).toBe(
      "A 1000x1000 image, mostly green (#808080).",
    );
    expect(captionOf(fakeScene([]), "long")).toBe("A 1000x1000 image, mostly white (#f5f5f0).");
  });
});
