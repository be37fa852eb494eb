import { z } from "zod";
import { defineTask } from "../contract.ts";
import { layoutParts } from "../image-keys.ts";
import { checkSchema, validateJson, type JsonSchema } from "../json-schema.ts";
import { assemble, fail, failAll, readJsonAnswer, succeed } from "../outcome.ts";

export const customOptionsSchema = z.object({
  prompt: z.string().trim().min(1).max(32_000),
  /** A JSON Schema in the subset Gemini supports; the answer is stored only if it validates. */
  schema: z
    .unknown()
    .transform((value, ctx): JsonSchema | undefined => {
      if (value === undefined) return undefined;
      const checked = checkSchema(value);
      if (checked.ok) return checked.schema;
      for (const message of checked.errors) ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    })
    .optional(),
});
export type CustomOptions = z.output<typeof customOptionsSchema>;

export const customResultSchema = z.union([
  z.object({ text: z.string() }).strict(),
  z.object({ json: z.json() }).strict(),
]);
export type CustomResult = z.output<typeof customResultSchema>;

/** The user's own prompt; with a schema the answer is JSON validated against it, else text. */
export const customTask = defineTask<CustomOptions, CustomResult>({
  name: "custom",
  version: 1,
  multiImage: "no",
  optionsSchema: customOptionsSchema,
  resultSchema: customResultSchema,
  build(options, { imageCount }) {
    if (imageCount !== 1) throw new RangeError(`custom sends one image per request, got ${imageCount}`);
    return {
      prompt: options.prompt,
      parts: layoutParts(1, options.prompt),
      generationConfig:
        options.schema === undefined
          ? {}
          : { responseMimeType: "application/json", responseJsonSchema: options.schema },
    };
  },
  parse(answer, options) {
    if (options.schema === undefined) {
      const text = answer.text.trim();
      const truncated = answer.finishReason === "MAX_TOKENS";
      const problems = truncated
        ? [{ code: "truncated" as const, message: "finishReason MAX_TOKENS: the answer may be cut short" }]
        : [];
      const draft =
        text === ""
          ? fail<CustomResult>("empty_answer", "empty answer", problems)
          : succeed({ text }, problems, truncated);
      return Promise.resolve(assemble([], [draft]));
    }
    const read = readJsonAnswer(answer);
    if (!read.ok) return Promise.resolve(failAll<CustomResult>(1, read.problems, read.code, read.error));
    const { json } = read;
    const errors = json.value === undefined ? ["nothing complete"] : validateJson(options.schema, json.value);
    if (errors.length > 0) {
      const shown =
        errors.slice(0, 5).join("; ") + (errors.length > 5 ? `; and ${errors.length - 5} more` : "");
      const draft = fail<CustomResult>(
        json.truncated ? "truncated" : "schema_violation",
        `the answer does not match the schema: ${shown}`,
      );
      return Promise.resolve(assemble(json.problems, [draft]));
    }
    return Promise.resolve(
      assemble(json.problems, [succeed({ json: json.value as z.core.util.JSONType }, [], json.truncated)]),
    );
  },
});
