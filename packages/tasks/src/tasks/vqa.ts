import { z } from "zod";
import { defineTask } from "../contract.ts";
import { layoutParts } from "../image-keys.ts";
import { fail, isRecord, succeed } from "../outcome.ts";
import { parseSingleOrKeyed } from "../single-or-keyed.ts";

export const vqaOptionsSchema = z.object({
  /** One question for every image of the run (per-image questions come from a manifest later). */
  question: z.string().trim().min(1).max(4000),
});
export type VqaOptions = z.output<typeof vqaOptionsSchema>;

export const vqaResultSchema = z.object({ question: z.string(), answer: z.string() });
export type VqaResult = z.output<typeof vqaResultSchema>;

export const vqaTask = defineTask<VqaOptions, VqaResult>({
  name: "vqa",
  version: 1,
  multiImage: "no",
  optionsSchema: vqaOptionsSchema,
  resultSchema: vqaResultSchema,
  build(options, { imageCount }) {
    if (imageCount !== 1) throw new RangeError(`vqa sends one image per request, got ${imageCount}`);
    const prompt =
      `Answer this question about the image: ${options.question}\n` +
      `Answer concisely from what is visible; say so if the image does not show the answer. ` +
      `Return a JSON object {"answer": string}.`;
    return {
      prompt,
      parts: layoutParts(1, prompt),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: {
          type: "object",
          properties: { answer: { type: "string" } },
          required: ["answer"],
        },
      },
    };
  },
  parse(answer, options) {
    return Promise.resolve(
      parseSingleOrKeyed(
        answer,
        1,
        (value, cut, problems) => {
          let text: unknown = isRecord(value) ? value["answer"] : undefined;
          if (typeof value === "string") {
            problems.push({ code: "loose_shape", message: 'a bare string instead of {"answer": string}' });
            text = value;
          }
          if (typeof text === "string" && text.trim() !== "") {
            return succeed({ question: options.question, answer: text.trim() }, problems, false);
          }
          return cut
            ? fail("truncated", "the answer was cut off", problems)
            : fail("schema_violation", 'expected {"answer": string}', problems);
        },
        (text, problems) => succeed({ question: options.question, answer: text }, problems, false),
      ),
    );
  },
});
