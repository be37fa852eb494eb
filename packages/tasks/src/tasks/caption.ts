import { z } from "zod";
import { defineTask, type ModelAnswer, type ParseOutcome } from "../contract.ts";
import { keyedSchema, keyRange, layoutParts } from "../image-keys.ts";
import type { JsonSchema } from "../json-schema.ts";
import { assemble, fail, isRecord, succeed, type Draft } from "../outcome.ts";
import { parseSingleOrKeyed } from "../single-or-keyed.ts";
import type { Problem } from "../warnings.ts";

export const captionResultSchema = z.object({ caption: z.string() });

export const captionOptionsSchema = z.object({
  length: z.enum(["short", "medium", "long"]).default("short"),
  style: z.enum(["factual", "descriptive", "alt-text"]).default("factual"),
  /** Write captions in this language (e.g. "Vietnamese"); default English. */
  language: z.string().trim().min(1).max(60).optional(),
});
export type CaptionOptions = z.output<typeof captionOptionsSchema>;
export type CaptionResult = z.output<typeof captionResultSchema>;

const LENGTH: Record<CaptionOptions["length"], string> = {
  short: "one sentence of at most 20 words",
  medium: "two or three sentences",
  long: "one detailed paragraph of four to six sentences",
};

const STYLE: Record<CaptionOptions["style"], string> = {
  factual:
    "Describe only what is visible: the main subject, the setting and notable colours. Do not guess names, brands or intentions.",
  descriptive:
    "Describe the scene vividly: the subject, the setting, the light, the colours, the mood and telling details.",
  "alt-text":
    "Write it as alt text for someone who cannot see the image: what they need to know, without starting with 'Image of'.",
};

const CAPTION_SCHEMA: JsonSchema = {
  type: "object",
  properties: { caption: { type: "string" } },
  required: ["caption"],
};

function language(options: CaptionOptions): string {
  return options.language === undefined ? "" : ` Write in ${options.language}.`;
}

/**
 * One image: plain text, the guide's own "Caption this image." request. Several: a JSON object
 * keyed by image, each value {"caption": string}.
 */
export const captionTask = defineTask<CaptionOptions, CaptionResult>({
  name: "caption",
  version: 1,
  multiImage: "batch",
  optionsSchema: captionOptionsSchema,
  resultSchema: captionResultSchema,
  build(options, { imageCount }) {
    if (imageCount === 1) {
      const prompt = `Caption this image in ${LENGTH[options.length]}. ${STYLE[options.style]}${language(options)} Answer with the caption only.`;
      return { prompt, parts: layoutParts(1, prompt), generationConfig: {} };
    }
    const prompt =
      `Caption each of the ${imageCount} images above, labelled ${keyRange(imageCount)}, in ${LENGTH[options.length]} each. ` +
      `${STYLE[options.style]}${language(options)} ` +
      `Return a JSON object with one key per image label; each value is an object {"caption": string}.`;
    return {
      prompt,
      parts: layoutParts(imageCount, prompt),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: keyedSchema(imageCount, CAPTION_SCHEMA),
      },
    };
  },
  parse(answer, _options, context) {
    const count = context.images.length;
    return Promise.resolve(count === 1 ? parseText(answer) : parseSingleOrKeyed(answer, count, readCaption));
  },
});

function readCaption(value: unknown, cut: boolean, problems: Problem[]): Draft<CaptionResult> {
  if (isRecord(value) && typeof value["caption"] === "string" && value["caption"].trim() !== "") {
    return succeed({ caption: value["caption"].trim() }, problems, false);
  }
  if (typeof value === "string" && value.trim() !== "") {
    problems.push({ code: "loose_shape", message: 'a bare string instead of {"caption": string}' });
    return succeed({ caption: value.trim() }, problems, false);
  }
  if (cut) return fail("truncated", "the caption was cut off", problems);
  return fail("schema_violation", 'expected {"caption": string}', problems);
}

/** A text answer: the caption is the text, unwrapped from a fence, quotes or a JSON object. */
function parseText(answer: ModelAnswer): ParseOutcome<CaptionResult> {
  const problems: Problem[] = [];
  let text = answer.text.trim();
  const fenced = /^```[A-Za-z0-9_-]*\s*\n?([\s\S]*?)\n?(```)?$/.exec(text);
  if (fenced) {
    problems.push({ code: "fenced_json", message: "the caption was inside a ``` fence" });
    text = fenced[1]!.trim();
  }
  if (text.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(text);
      if (isRecord(value) && typeof value["caption"] === "string") {
        problems.push({
          code: "loose_shape",
          message: 'a JSON {"caption": ...} object instead of plain text',
        });
        text = value["caption"].trim();
      }
    } catch {
      // Prose that happens to start with a brace is still a caption.
    }
  }
  if (/^".*"$/s.test(text) && text.length >= 2) text = text.slice(1, -1).trim();
  const truncated = answer.finishReason === "MAX_TOKENS";
  if (truncated)
    problems.push({ code: "truncated", message: "finishReason MAX_TOKENS: the caption may be cut short" });
  if (text === "") return assemble([], [fail("empty_answer", "empty caption", problems)]);
  return assemble([], [succeed({ caption: text }, problems, truncated)]);
}
