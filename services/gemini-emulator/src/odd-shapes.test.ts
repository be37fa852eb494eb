import { describe, expect, it } from "vitest";
import type { ContentFault, ShapeFault } from "./faults.ts";
import type { GenerateContentResponse } from "./generate.ts";
import { applyContentFaults, reshapeText } from "./odd-shapes.ts";
import { textTokens } from "./usage.ts";

const DETECTIONS = JSON.stringify([
  { label: "red", box_2d: [100, 200, 300, 400] },
  { label: "blue", box_2d: [500, 600, 700, 800] },
]);

function response(text: string, thought?: string): GenerateContentResponse {
  const thoughts = thought === undefined ? 0 : textTokens(thought);
  return {
    candidates: [
      {
        content: {
          role: "model",
          parts: [...(thought === undefined ? [] : [{ text: thought, thought: true as const }]), { text }],
        },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: 300,
      candidatesTokenCount: textTokens(text),
      totalTokenCount: 300 + textTokens(text) + thoughts,
      promptTokensDetails: [{ modality: "IMAGE", tokenCount: 300 }],
      candidatesTokensDetails: [{ modality: "TEXT", tokenCount: textTokens(text) }],
      ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    },
    modelVersion: "gemini-2.5-flash",
    responseId: "abc",
  };
}

const shaped = (text: string, ...shapes: ShapeFault[]) => reshapeText(text, new Set(shapes), undefined).text;

describe("reshapeText: wrapping", () => {
  it("fences JSON and surrounds it with prose", () => {
    expect(shaped(DETECTIONS, "fence")).toBe("```json\n" + DETECTIONS + "\n```");
    const both = shaped(DETECTIONS, "fence", "prose");
    expect(both).toMatch(/^Sure! Here is what I found in the image:\n\n```json\n/);
    expect(both).toMatch(/\n```\n\nLet me know if you would like me to refine any of these results\.$/);
    expect(both).toContain(DETECTIONS);
  });

  it("cuts at the asked number of tokens, or at half the answer, and says whether it cut", () => {
    expect(reshapeText(DETECTIONS, new Set(["truncate"]), 5)).toEqual({
      text: DETECTIONS.slice(0, 20),
      truncated: true,
    });
    const half = reshapeText(DETECTIONS, new Set(["truncate"]), undefined);
    expect(textTokens(half.text)).toBe(Math.floor(textTokens(DETECTIONS) / 2));
    expect(reshapeText("short", new Set(["truncate"]), 100)).toEqual({ text: "short", truncated: false });
    // The cut comes last, so a fenced answer loses its closing fence.
    expect(reshapeText(DETECTIONS, new Set(["fence", "truncate"]), 3).text).toBe('```json\n[{"l');
  });
});

describe("reshapeText: malformed answers", () => {
  const keyed = JSON.stringify({ img_1: { label: "cat" }, img_2: { label: "dog" }, img_3: { label: "cow" } });

  it("garbles an answer into prose with no JSON left in it", () => {
    const text = shaped(keyed, "garbled");
    expect(text).toMatch(/^I would rather describe this in words\. img_1: label: cat/);
    expect(text).not.toMatch(/[{}[\]"]/);
  });

  it("drops the last member of a JSON object, and leaves other answers alone", () => {
    expect(JSON.parse(shaped(keyed, "drop-key"))).toEqual({
      img_1: { label: "cat" },
      img_2: { label: "dog" },
    });
    expect(shaped(DETECTIONS, "drop-key")).toBe(DETECTIONS);
    expect(shaped("A red square.", "drop-key")).toBe("A red square.");
  });
});

describe("reshapeText: detection answers", () => {
  const parsed = (text: string): unknown => JSON.parse(text);

  it("reverses corners, pushes boxes to and past 1000, duplicates, wraps", () => {
    expect(parsed(shaped(DETECTIONS, "reversed-boxes"))).toEqual([
      { label: "red", box_2d: [300, 400, 100, 200] },
      { label: "blue", box_2d: [700, 800, 500, 600] },
    ]);
    expect(parsed(shaped(DETECTIONS, "over-1000"))).toEqual([
      { label: "red", box_2d: [100, 200, 1000, 1004] },
      { label: "blue", box_2d: [500, 600, 1000, 1004] },
    ]);
    expect(parsed(shaped(DETECTIONS, "duplicates"))).toEqual([
      { label: "red", box_2d: [100, 200, 300, 400] },
      { label: "red", box_2d: [100, 200, 300, 400] },
      { label: "blue", box_2d: [500, 600, 700, 800] },
      { label: "blue", box_2d: [500, 600, 700, 800] },
    ]);
    expect(parsed(shaped(DETECTIONS, "wrapped-boxes"))).toEqual({ boxes: parsed(DETECTIONS) });
  });

  it("replaces masks with <seg_N> codebook tokens", () => {
    const items = parsed(shaped(DETECTIONS, "seg-masks")) as { mask: string }[];
    for (const item of items) {
      expect(item.mask).toMatch(/^<start_of_mask>(<seg_\d{1,3}>){16}$/);
      expect([...item.mask.matchAll(/<seg_(\d+)>/g)].every((m) => Number(m[1]) < 128)).toBe(true);
    }
    expect(items[0]!.mask).not.toBe(items[1]!.mask);
  });

  it("combines spatial faults, then wraps and fences the result", () => {
    const text = shaped(DETECTIONS, "duplicates", "reversed-boxes", "wrapped-boxes", "fence");
    const inner = parsed(text.replace(/^```json\n|\n```$/g, "")) as { boxes: { box_2d: number[] }[] };
    expect(inner.boxes).toHaveLength(4);
    expect(inner.boxes[1]!.box_2d).toEqual([300, 400, 100, 200]);
  });

  it("leaves answers that are not detection lists alone", () => {
    const caption = JSON.stringify({ caption: "A red square." });
    expect(shaped(caption, "reversed-boxes", "wrapped-boxes", "seg-masks")).toBe(caption);
    expect(shaped("A red square.", "duplicates", "over-1000")).toBe("A red square.");
    expect(shaped("[]", "duplicates")).toBe("[]");
  });
});

describe("applyContentFaults", () => {
  it("passes the answer through untouched with no faults", () => {
    const original = response(DETECTIONS);
    const result = applyContentFaults(original, [], undefined);
    expect(result.response).toBe(original);
    expect(result.outputTokens).toBe(textTokens(DETECTIONS));
  });

  it("blocks the prompt: no candidates, SAFETY feedback, the prompt's usage only", () => {
    const result = applyContentFaults(response(DETECTIONS), ["block", "fence"], undefined);
    expect(result).toEqual({
      response: {
        promptFeedback: {
          blockReason: "SAFETY",
          safetyRatings: expect.arrayContaining([
            { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH" },
          ]) as unknown,
        },
        usageMetadata: {
          promptTokenCount: 300,
          totalTokenCount: 300,
          promptTokensDetails: [{ modality: "IMAGE", tokenCount: 300 }],
        },
        modelVersion: "gemini-2.5-flash",
        responseId: "abc",
      },
      outputTokens: 0,
    });
  });

  it("stops the candidate for safety: finishReason SAFETY, ratings with the blocked one, no content", () => {
    const { response: stopped, outputTokens } = applyContentFaults(
      response(DETECTIONS),
      ["safety"],
      undefined,
    );
    expect(outputTokens).toBe(0);
    expect(stopped).toMatchObject({
      candidates: [
        {
          finishReason: "SAFETY",
          index: 0,
          safetyRatings: expect.arrayContaining([
            { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
          ]) as unknown,
        },
      ],
      usageMetadata: { promptTokenCount: 300, totalTokenCount: 300 },
    });
    expect(JSON.stringify(stopped)).not.toContain('"content"');
  });

  it("reshapes the visible answer, keeps thoughts, and recounts the output it bills", () => {
    const thought = "Looking at the image.";
    const faults: ContentFault[] = ["fence", "truncate"];
    const result = applyContentFaults(response(DETECTIONS, thought), faults, 4);
    const candidate = (result.response as GenerateContentResponse).candidates[0]!;
    expect(candidate.finishReason).toBe("MAX_TOKENS");
    expect(candidate.content.parts).toEqual([
      { text: thought, thought: true },
      { text: '```json\n[{"label' },
    ]);
    const usage = (result.response as GenerateContentResponse).usageMetadata;
    expect(usage.candidatesTokenCount).toBe(4);
    expect(usage.totalTokenCount).toBe(300 + 4 + textTokens(thought));
    expect(result.outputTokens).toBe(4 + textTokens(thought));
  });
});
