import { z } from "zod";
import { defineTask } from "../contract.ts";
import { layoutParts } from "../image-keys.ts";
import type { JsonSchema } from "../json-schema.ts";
import { assemble, succeed } from "../outcome.ts";
import {
  box2dSchema,
  labelPhrase,
  pixelBoxSchema,
  readSpatialAnswer,
  spatialOptionsSchema,
  targetPhrase,
} from "../spatial.ts";
import { spatialThinking } from "../thinking.ts";

export const detectOptionsSchema = spatialOptionsSchema(50);
export type DetectOptions = z.output<typeof detectOptionsSchema>;

export const detectResultSchema = z.object({
  objects: z.array(z.object({ label: z.string(), box: pixelBoxSchema })),
});
export type DetectResult = z.output<typeof detectResultSchema>;

export function detectAnswerSchema(options: DetectOptions): JsonSchema {
  return {
    type: "array",
    maxItems: options.maxItems,
    items: {
      type: "object",
      properties: {
        box_2d: box2dSchema(),
        label:
          options.labels === undefined ? { type: "string" } : { type: "string", enum: [...options.labels] },
      },
      required: ["box_2d", "label"],
      propertyOrdering: ["box_2d", "label"],
    },
  };
}

/** The guide's detection request: box_2d [ymin, xmin, ymax, xmax] on 0..1000, thinking off. */
export const detectTask = defineTask<DetectOptions, DetectResult>({
  name: "detect",
  version: 1,
  multiImage: "no",
  optionsSchema: detectOptionsSchema,
  resultSchema: detectResultSchema,
  build(options, { imageCount, model }) {
    if (imageCount !== 1) throw new RangeError(`detect sends one image per request, got ${imageCount}`);
    const prompt =
      `Detect ${targetPhrase(options.labels)}. ` +
      `The box_2d should be [ymin, xmin, ymax, xmax] normalized to 0-1000. ` +
      `Output a JSON list where each entry contains the 2D bounding box in the key "box_2d" and a text label in the key "label". ` +
      `${labelPhrase(options.labels)} Return at most ${options.maxItems} items.`;
    const thinkingConfig = spatialThinking(model, options.thinkingBudget);
    return {
      prompt,
      parts: layoutParts(1, prompt),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: detectAnswerSchema(options),
        temperature: 0.5,
        ...(thinkingConfig === undefined ? {} : { thinkingConfig }),
      },
    };
  },
  parse(answer, options, context) {
    const read = readSpatialAnswer(answer, context, options.labels);
    if (!read.ok) return Promise.resolve(assemble(read.answerProblems, [read.draft]));
    const objects = read.items.map((item) => ({ label: item.label, box: item.box }));
    return Promise.resolve(
      assemble(read.answerProblems, [succeed({ objects }, read.problems, read.partial)]),
    );
  },
});
