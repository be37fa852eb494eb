import { UsageError } from "@tessera/core";
import { identityTransform } from "@tessera/imaging";
import { describe, expect, it } from "vitest";
import type { ParseContext, ParseOutcome } from "./contract.ts";
import { bindTask, TASKS } from "./registry.ts";

const context = (count: number): ParseContext => ({
  images: Array.from({ length: count }, (_, i) => ({
    label: `photos/${i + 1}.jpg`,
    transform: identityTransform({ width: 1000, height: 800 }),
  })),
});

/** Per image: the result, or "error <code>", for compact expectations. */
function summary<R>(outcome: ParseOutcome<R>): unknown[] {
  return outcome.perImage.map((o) => (o.ok ? o.result : `error ${o.code}`));
}

describe("request shapes", () => {
  it("puts a lone image before the prompt, and labels each of several", () => {
    const one = bindTask("caption", {}, "gemini-2.5-flash").build(1);
    expect(one.parts).toEqual([
      { kind: "image", index: 0 },
      { kind: "text", text: one.prompt },
    ]);
    expect(one.prompt).toMatch(/^Caption this image in one sentence of at most 20 words\./);
    expect(one.generationConfig).toEqual({});

    const three = bindTask("caption", { length: "long" }, "gemini-2.5-flash").build(3);
    expect(three.parts.map((p) => (p.kind === "image" ? p.index : p.text))).toEqual([
      "Image img_1:",
      0,
      "Image img_2:",
      1,
      "Image img_3:",
      2,
      three.prompt,
    ]);
    expect(three.generationConfig.responseJsonSchema).toMatchObject({
      type: "object",
      required: ["img_1", "img_2", "img_3"],
      properties: { img_2: { type: "object", required: ["caption"] } },
    });
  });

  it("asks for box_2d lists with thinking off only where the model allows it", () => {
    const flash = bindTask("detect", { labels: ["cat", "dog"] }, "gemini-2.5-flash").build(1);
    expect(flash.prompt).toMatch(/^Detect every instance of these items in the image: "cat", "dog"\. /);
    expect(bindTask("detect", {}, "m").build(1).prompt).toMatch(
      /^Detect all of the prominent items in the image\. /,
    );
    expect(flash.prompt).toContain("[ymin, xmin, ymax, xmax] normalized to 0-1000");
    expect(flash.generationConfig).toMatchObject({
      responseMimeType: "application/json",
      thinkingConfig: { thinkingBudget: 0 },
      responseJsonSchema: { type: "array", items: { properties: { label: { enum: ["cat", "dog"] } } } },
    });
    expect(
      bindTask("segment", {}, "gemini-2.5-pro").build(1).generationConfig.thinkingConfig,
    ).toBeUndefined();
    expect(
      bindTask("segment", { thinkingBudget: 128 }, "gemini-2.5-pro").build(1).generationConfig.thinkingConfig,
    ).toEqual({
      thinkingBudget: 128,
    });
  });

  it("refuses image counts a task cannot take", () => {
    expect(() => bindTask("detect", {}, "m").build(2)).toThrow(RangeError);
    expect(() => bindTask("compare", {}, "m").build(1)).toThrow(RangeError);
  });
});

describe("options", () => {
  it("fills in defaults and refuses bad options as a usage error", () => {
    expect(bindTask("detect", undefined, "m").options).toEqual({ maxItems: 50 });
    expect(() => bindTask("classify", { labels: ["cat"] }, "m")).toThrow(UsageError);
    expect(() => bindTask("classify", { labels: ["Cat", "cat "] }, "m")).toThrow(/are the same label/);
    expect(() => bindTask("vqa", {}, "m")).toThrow(/invalid options for task vqa/);
    expect(() => bindTask("custom", { prompt: "x", schema: { type: "object", pattern: "a" } }, "m")).toThrow(
      /unsupported keyword "pattern"/,
    );
  });
});

describe("configHash", () => {
  it("changes with the model, the options and anything that changes the request", () => {
    const base = bindTask("classify", { labels: ["a", "b"] }, "gemini-2.5-flash").configHash;
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(
      bindTask("classify", { labels: ["a", "b"], multiLabel: false }, "gemini-2.5-flash").configHash,
    ).toBe(base);
    expect(bindTask("classify", { labels: ["a", "b"] }, "gemini-2.5-pro").configHash).not.toBe(base);
    expect(bindTask("classify", { labels: ["b", "a"] }, "gemini-2.5-flash").configHash).not.toBe(base);
    expect(
      bindTask("classify", { labels: ["a", "b"], multiLabel: true }, "gemini-2.5-flash").configHash,
    ).not.toBe(base);
    const custom = (schema?: unknown) => bindTask("custom", { prompt: "Describe", schema }, "m").configHash;
    expect(custom({ type: "object" })).not.toBe(custom({ type: "array" }));
    expect(custom()).not.toBe(custom({ type: "object" }));
  });
});

describe("several images per request", () => {
  const caption = bindTask("caption", {}, "m");

  it("maps a keyed answer back per image", async () => {
    const out = await caption.parse(
      { text: '{"img_2": {"caption": "Two"}, "img_1": {"caption": "One"}}', finishReason: "STOP" },
      context(2),
    );
    expect(summary(out)).toEqual([{ caption: "One" }, { caption: "Two" }]);
    expect(out.perImage.every((o) => o.ok && !o.partial && o.warnings.length === 0)).toBe(true);
  });

  it("fails only the image whose key is missing or malformed, and ignores extra keys", async () => {
    const out = await caption.parse(
      { text: '{"img_1": {"caption": "One"}, "img_3": {"text": "?"}, "img_9": {"caption": "Nine"}}' },
      context(3),
    );
    expect(summary(out)).toEqual([{ caption: "One" }, "error missing_image_key", "error schema_violation"]);
    expect(out.counters).toEqual({ extra_image_key: 1, missing_image_key: 1, schema_violation: 1 });
    // The answer-level warning reaches every image's annotation, but is counted once for the run.
    expect(out.perImage[0]!.warnings).toEqual([
      'extra_image_key: key "img_9" names no image of the request; ignored',
    ]);
  });

  it("reads keys the model spelled its own way, and a list matched by position", async () => {
    const out = await caption.parse({ text: '{"Image 1": {"caption": "One"}, "img2": "Two"}' }, context(2));
    expect(summary(out)).toEqual([{ caption: "One" }, { caption: "Two" }]);
    expect(out.counters).toEqual({ image_key_normalised: 2, loose_shape: 1 });
    const list = await caption.parse({ text: '[{"caption": "One"}, {"caption": "Two"}]' }, context(2));
    expect(summary(list)).toEqual([{ caption: "One" }, { caption: "Two" }]);
  });

  it("keeps the whole images of a cut-off answer and fails the rest as truncated", async () => {
    const out = await caption.parse(
      { text: '{"img_1": {"caption": "One"}, "img_2": {"caption": "Tw', finishReason: "MAX_TOKENS" },
      context(3),
    );
    expect(summary(out)).toEqual([{ caption: "One" }, "error truncated", "error truncated"]);
    expect(out.perImage[0]).toMatchObject({ ok: true, partial: false });
    // One cut-off answer is one truncation for the run, however many images it cost.
    expect(out.counters).toEqual({ truncated: 1 });
  });

  it("fails every image when there is no JSON at all", async () => {
    const out = await caption.parse({ text: "Sorry, I can't help with that." }, context(2));
    expect(summary(out)).toEqual(["error not_json", "error not_json"]);
    expect(out.counters).toEqual({ not_json: 1 });
  });
});

describe("caption", () => {
  const caption = bindTask("caption", {}, "m");
  it("takes a single image's text answer as the caption", async () => {
    expect(summary(await caption.parse({ text: "  A red circle on white.\n" }, context(1)))).toEqual([
      { caption: "A red circle on white." },
    ]);
    const cut = await caption.parse({ text: "A red circle on", finishReason: "MAX_TOKENS" }, context(1));
    expect(cut.perImage[0]).toMatchObject({ ok: true, partial: true, counters: { truncated: 1 } });
    expect(summary(await caption.parse({ text: '{"caption": "A cat."}' }, context(1)))).toEqual([
      { caption: "A cat." },
    ]);
    expect(summary(await caption.parse({ text: '"A quoted cat."' }, context(1)))).toEqual([
      { caption: "A quoted cat." },
    ]);
  });
});

describe("classify", () => {
  const single = bindTask("classify", { labels: ["cat", "dog", "traffic light"] }, "m");
  const multi = bindTask("classify", { labels: ["cat", "dog", "traffic light"], multiLabel: true }, "m");

  it("accepts a label of the set, loosely spelled, and refuses others", async () => {
    expect(summary(await single.parse({ text: '{"label": "dog"}' }, context(1)))).toEqual([
      { labels: ["dog"] },
    ]);
    const loose = await single.parse({ text: '{"label": "Traffic_Light"}' }, context(1));
    expect(summary(loose)).toEqual([{ labels: ["traffic light"] }]);
    expect(loose.counters).toEqual({ label_normalised: 1 });
    expect(summary(await single.parse({ text: '{"label": "horse"}' }, context(1)))).toEqual([
      "error label_not_in_set",
    ]);
  });

  it("keeps the known labels of a multi-label answer in the order of the set", async () => {
    const out = await multi.parse(
      { text: '{"labels": ["traffic light", "horse", "cat", "cat"]}' },
      context(1),
    );
    expect(summary(out)).toEqual([{ labels: ["cat", "traffic light"] }]);
    expect(out.counters).toEqual({ label_not_in_set: 1 });
    expect(summary(await multi.parse({ text: '{"labels": []}' }, context(1)))).toEqual([{ labels: [] }]);
  });

  it("splits a batch, failing an image with an unknown label only", async () => {
    const out = await single.parse(
      { text: '{"img_1": {"label": "cat"}, "img_2": {"label": "fish"}}' },
      context(2),
    );
    expect(summary(out)).toEqual([{ labels: ["cat"] }, "error label_not_in_set"]);
  });
});

describe("vqa", () => {
  const vqa = bindTask("vqa", { question: "How many circles?" }, "m");
  it("answers from JSON, or from plain text with a warning", async () => {
    expect(summary(await vqa.parse({ text: '{"answer": "Two."}' }, context(1)))).toEqual([
      { question: "How many circles?", answer: "Two." },
    ]);
    const plain = await vqa.parse({ text: "Two circles." }, context(1));
    expect(summary(plain)).toEqual([{ question: "How many circles?", answer: "Two circles." }]);
    expect(plain.counters).toEqual({ loose_shape: 1 });
    expect(vqa.build(1).prompt).toMatch(/^Answer this question about the image: How many circles\?\n/);
  });
});

describe("compare", () => {
  const compare = bindTask("compare", {}, "m");
  it("names images by the caller's labels", async () => {
    const out = await compare.parse(
      {
        text: JSON.stringify({
          summary: "The second image has an extra square.",
          differences: [{ description: "A blue square appears", images: ["img_2", "img_7"] }, { images: [] }],
        }),
      },
      context(2),
    );
    expect(summary(out)).toEqual([
      {
        summary: "The second image has an extra square.",
        differences: [{ description: "A blue square appears", images: ["photos/2.jpg"] }],
      },
    ]);
    expect(out.counters).toEqual({ extra_image_key: 1, invalid_item: 1 });
    expect(compare.build(2).prompt).toMatch(
      /^What is different between these images\? The 2 images above are labelled img_1 and img_2\./,
    );
  });
});

describe("custom", () => {
  const schema = {
    type: "object",
    properties: { count: { type: "integer" }, colours: { type: "array", items: { type: "string" } } },
    required: ["count"],
  };
  const custom = bindTask("custom", { prompt: "Count the shapes.", schema }, "m");

  it("stores JSON that validates, and fails JSON that does not", async () => {
    expect(summary(await custom.parse({ text: '{"count": 3, "colours": ["red"]}' }, context(1)))).toEqual([
      { json: { count: 3, colours: ["red"] } },
    ]);
    const bad = await custom.parse({ text: '{"count": "three"}' }, context(1));
    expect(bad.perImage[0]).toMatchObject({ ok: false, code: "schema_violation" });
    expect(bad.perImage[0]!.ok ? "" : bad.perImage[0]!.error).toContain("$.count: expected integer");
    expect(custom.build(1).generationConfig).toEqual({
      responseMimeType: "application/json",
      responseJsonSchema: schema,
    });
  });

  it("stores text when no schema was given", async () => {
    const text = bindTask("custom", { prompt: "Describe the light." }, "m");
    expect(text.build(1).generationConfig).toEqual({});
    expect(summary(await text.parse({ text: " Soft daylight. " }, context(1)))).toEqual([
      { text: "Soft daylight." },
    ]);
  });
});

describe("result schemas", () => {
  it("accept what the parsers produce", async () => {
    const out = await bindTask("detect", {}, "m").parse(
      { text: '[{"box_2d": [0, 0, 500, 500], "label": "a"}]' },
      context(1),
    );
    const first = out.perImage[0]!;
    if (!first.ok) throw new Error(first.error);
    expect(TASKS.detect.resultSchema.parse(first.result)).toEqual({
      objects: [{ label: "a", box: [0, 0, 500, 400] }],
    });
  });
});
