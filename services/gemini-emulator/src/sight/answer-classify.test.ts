import { describe, expect, it } from "vitest";
import { classifyImage } from "./answer-classify.ts";
import { fakePhoto, fakeScene, fakeShape } from "./test-support/fake-scene.ts";

const scene = fakeScene([
  fakeShape("red", "circle", [0, 0, 300, 300]),
  fakeShape("blue", "square", [500, 500, 600, 600]),
]);

describe("classifyImage, one label", () => {
  it("picks the most specific label naming the largest shape", () => {
    expect(classifyImage(scene, ["square", "circle", "red circle"], false)).toEqual(["red circle"]);
    expect(classifyImage(scene, ["blue", "red"], false)).toEqual(["red"]);
  });

  it("goes on to smaller shapes, then a catch-all, then the colours, then the first label", () => {
    expect(classifyImage(scene, ["triangle", "square"], false)).toEqual(["square"]);
    expect(classifyImage(scene, ["triangle", "other"], false)).toEqual(["other"]);
    expect(classifyImage(scene, ["triangle", "white background"], false)).toEqual(["white background"]);
    expect(classifyImage(scene, ["triangle", "diamond"], false)).toEqual(["triangle"]);
  });

  it("classifies images without shapes by their main colour", () => {
    expect(classifyImage(fakePhoto([{ name: "green", share: 0.8 }]), ["red", "green"], false)).toEqual([
      "green",
    ]);
  });
});

describe("classifyImage, several labels", () => {
  it("keeps every label naming a shape, in the request's order", () => {
    expect(classifyImage(scene, ["square", "triangle", "red", "shape"], true)).toEqual([
      "square",
      "red",
      "shape",
    ]);
  });

  it("falls back to a catch-all label, else none", () => {
    expect(classifyImage(scene, ["triangle", "none"], true)).toEqual(["none"]);
    expect(classifyImage(scene, ["triangle", "diamond"], true)).toEqual([]);
  });

  it("names the main colours of images without shapes", () => {
    const photo = fakePhoto([
      { name: "green", share: 0.7 },
      { name: "blue", share: 0.25 },
      { name: "red", share: 0.05 },
    ]);
    expect(classifyImage(photo, ["red", "blue", "green"], true)).toEqual(["blue", "green"]);
  });
});
