import { bindTask, type TaskName } from "@tessera/tasks";
import { describe, expect, it } from "vitest";
import { recogniseTask, type RecognisedTask } from "./recognise.ts";

function recognise(name: TaskName, options: unknown, imageCount = 1): RecognisedTask | undefined {
  const request = bindTask(name, options, "gemini-2.5-flash").build(imageCount);
  return recogniseTask({
    prompt: request.prompt,
    responseMimeType: request.generationConfig.responseMimeType ?? "text/plain",
    schema: request.generationConfig.responseJsonSchema,
    imageCount,
  });
}

describe("recogniseTask, on the requests @tessera/tasks builds", () => {
  it("caption: plain text for one image, keyed JSON for several, with the length asked for", () => {
    expect(recognise("caption", {})).toEqual({ task: "caption", keys: undefined, length: "short" });
    expect(recognise("caption", { length: "long", language: "Vietnamese" }, 3)).toEqual({
      task: "caption",
      keys: ["img_1", "img_2", "img_3"],
      length: "long",
    });
    expect(recognise("caption", { length: "medium" })).toMatchObject({ length: "medium" });
  });

  it("classify: the label set from the schema, single or multi-label, keyed or not", () => {
    const labels = ["red", "circle", "other"];
    expect(recognise("classify", { labels })).toEqual({
      task: "classify",
      keys: undefined,
      labels,
      multi: false,
    });
    expect(recognise("classify", { labels, multiLabel: true, instructions: "The shapes." }, 2)).toEqual({
      task: "classify",
      keys: ["img_1", "img_2"],
      labels,
      multi: true,
    });
  });

  it("vqa: the question, up to the end of its line", () => {
    expect(recognise("vqa", { question: "How many circles are there?" })).toEqual({
      task: "vqa",
      question: "How many circles are there?",
    });
  });

  it("detect and segment: the labels asked for and the item limit", () => {
    expect(recognise("detect", {})).toEqual({ task: "detect", labels: undefined, maxItems: 50 });
    expect(recognise("segment", { labels: ["red circle", 'say "hi"'], maxItems: 3 })).toEqual({
      task: "segment",
      labels: ["red circle", 'say "hi"'],
      maxItems: 3,
    });
  });

  it("compare: the question and the image keys", () => {
    expect(recognise("compare", {}, 3)).toEqual({
      task: "compare",
      question: "What is different between these images?",
      keys: ["img_1", "img_2", "img_3"],
    });
    expect(recognise("compare", { question: "Which shape moved?" }, 2)).toMatchObject({
      question: "Which shape moved?",
    });
  });

  it("custom, and anything else: not a task sight answers", () => {
    expect(recognise("custom", { prompt: "Caption this image, please." })).toBeUndefined();
    expect(
      recognise("custom", { prompt: "Count the shapes.", schema: { type: "object", properties: {} } }),
    ).toBeUndefined();
  });
});

describe("recogniseTask, on requests that only look alike", () => {
  it("wants the schema that goes with the prompt", () => {
    const detectPrompt = "Detect all of the prominent items in the image. Return at most 5 items.";
    expect(
      recogniseTask({
        prompt: detectPrompt,
        responseMimeType: "text/plain",
        schema: undefined,
        imageCount: 1,
      }),
    ).toBeUndefined();
    expect(
      recogniseTask({
        prompt: detectPrompt,
        responseMimeType: "application/json",
        schema: undefined,
        imageCount: 1,
      }),
    ).toEqual({ task: "detect", labels: undefined, maxItems: 5 });
    const caption = {
      prompt: "Caption this image in one sentence. Answer with the caption only.",
      schema: undefined,
      imageCount: 1,
    };
    expect(recogniseTask({ ...caption, responseMimeType: "application/json" })).toBeUndefined();
    const classify = 'Classify this image. Choose exactly one label from: "a", "b".';
    expect(
      recogniseTask({
        prompt: classify,
        responseMimeType: "application/json",
        schema: { type: "object" },
        imageCount: 1,
      }),
    ).toBeUndefined();
  });

  it("needs an image", () => {
    const caption = {
      prompt: "Caption this image in one sentence. Answer with the caption only.",
      schema: undefined,
    };
    expect(recogniseTask({ ...caption, responseMimeType: "text/plain", imageCount: 0 })).toBeUndefined();
  });
});
