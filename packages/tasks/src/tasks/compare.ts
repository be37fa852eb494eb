import { z } from "zod";
import { defineTask } from "../contract.ts";
import { imageKey, imageKeys, keyRange, layoutParts } from "../image-keys.ts";
import type { JsonSchema } from "../json-schema.ts";
import { assemble, fail, failAll, isRecord, readJsonAnswer, succeed } from "../outcome.ts";
import type { Problem } from "../warnings.ts";

export const DEFAULT_COMPARE_QUESTION = "What is different between these images?";

export const compareOptionsSchema = z.object({
  question: z.string().trim().min(1).max(4000).default(DEFAULT_COMPARE_QUESTION),
});
export type CompareOptions = z.output<typeof compareOptionsSchema>;

export const compareResultSchema = z.object({
  summary: z.string(),
  differences: z.array(
    z.object({
      description: z.string(),
      /** The images the difference concerns, by the caller's labels (source keys). */
      images: z.array(z.string()),
    }),
  ),
});
export type CompareResult = z.output<typeof compareResultSchema>;

export function compareAnswerSchema(imageCount: number): JsonSchema {
  return {
    type: "object",
    properties: {
      summary: { type: "string" },
      differences: {
        type: "array",
        items: {
          type: "object",
          properties: {
            description: { type: "string" },
            images: { type: "array", items: { type: "string", enum: imageKeys(imageCount) } },
          },
          required: ["description", "images"],
          propertyOrdering: ["description", "images"],
        },
      },
    },
    required: ["summary", "differences"],
    propertyOrdering: ["summary", "differences"],
  };
}

/** Several images in one prompt, one answer about the set (the guide's "what is different"). */
export const compareTask = defineTask<CompareOptions, CompareResult>({
  name: "compare",
  version: 1,
  multiImage: "set",
  optionsSchema: compareOptionsSchema,
  resultSchema: compareResultSchema,
  build(options, { imageCount }) {
    if (imageCount < 2) throw new RangeError(`compare needs at least two images, got ${imageCount}`);
    const prompt =
      `${options.question} The ${imageCount} images above are labelled ${keyRange(imageCount)}. ` +
      `List each visible difference with the labels of the images it concerns, and sum them up in one or two sentences. ` +
      `Return a JSON object {"summary": string, "differences": [{"description": string, "images": [image labels]}]}; ` +
      `the list is empty if there is no visible difference.`;
    return {
      prompt,
      parts: layoutParts(imageCount, prompt),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: compareAnswerSchema(imageCount),
      },
    };
  },
  parse(answer, _options, context) {
    const read = readJsonAnswer(answer);
    if (!read.ok) return Promise.resolve(failAll<CompareResult>(1, read.problems, read.code, read.error));
    const { json } = read;
    const problems: Problem[] = [];
    const value = json.value;
    if (!isRecord(value) || !Array.isArray(value["differences"])) {
      const code = json.truncated ? "truncated" : "schema_violation";
      const draft = fail<CompareResult>(code, 'expected {"summary": string, "differences": [...]}');
      return Promise.resolve(assemble(json.problems, [draft]));
    }
    const labels = context.images.map((image) => image.label);
    const differences: CompareResult["differences"] = [];
    value["differences"].forEach((entry: unknown, i) => {
      const description = isRecord(entry) ? entry["description"] : entry;
      if (typeof description !== "string" || description.trim() === "") {
        problems.push({ code: "invalid_item", message: `difference ${i}: no description; dropped` });
        return;
      }
      const images: string[] = [];
      const keys: unknown = isRecord(entry) ? entry["images"] : [];
      for (const key of Array.isArray(keys) ? keys : []) {
        const index = labels.findIndex((_, k) => imageKey(k) === key);
        if (index === -1) {
          problems.push({
            code: "extra_image_key",
            message: `difference ${i}: ${JSON.stringify(key)} names no image; ignored`,
          });
        } else if (!images.includes(labels[index]!)) {
          images.push(labels[index]!);
        }
      }
      differences.push({ description: description.trim(), images });
    });
    const summary = typeof value["summary"] === "string" ? value["summary"].trim() : "";
    if (summary === "") problems.push({ code: "loose_shape", message: "no summary" });
    return Promise.resolve(
      assemble(json.problems, [succeed({ summary, differences }, problems, json.truncated)]),
    );
  },
});
