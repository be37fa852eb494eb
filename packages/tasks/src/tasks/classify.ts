import { z } from "zod";
import { defineTask } from "../contract.ts";
import { keyedSchema, keyRange, layoutParts } from "../image-keys.ts";
import type { JsonSchema } from "../json-schema.ts";
import { labelListSchema, matchLabel, quoteLabels } from "../labels.ts";
import { fail, isRecord, succeed, type Draft } from "../outcome.ts";
import { parseSingleOrKeyed } from "../single-or-keyed.ts";
import type { Problem } from "../warnings.ts";

export const classifyOptionsSchema = z.object({
  labels: labelListSchema(2),
  /** Every label that applies (possibly none) instead of exactly one. */
  multiLabel: z.boolean().default(false),
  /** What the labels are about, e.g. "the weather in the photo"; helps the model choose. */
  instructions: z.string().trim().min(1).max(2000).optional(),
});
export type ClassifyOptions = z.output<typeof classifyOptionsSchema>;

/** The chosen labels, spelled as in the options; exactly one unless multiLabel. */
export const classifyResultSchema = z.object({ labels: z.array(z.string()) });
export type ClassifyResult = z.output<typeof classifyResultSchema>;

function answerSchema(options: ClassifyOptions): JsonSchema {
  const label: JsonSchema = { type: "string", enum: [...options.labels] };
  return options.multiLabel
    ? { type: "object", properties: { labels: { type: "array", items: label } }, required: ["labels"] }
    : { type: "object", properties: { label }, required: ["label"] };
}

function instruction(options: ClassifyOptions): string {
  const about = options.instructions === undefined ? "" : ` ${options.instructions}`;
  return options.multiLabel
    ? `Choose every label that applies (possibly none) from: ${quoteLabels(options.labels)}.${about}`
    : `Choose exactly one label from: ${quoteLabels(options.labels)}.${about}`;
}

function answerShape(options: ClassifyOptions): string {
  return options.multiLabel ? '{"labels": [the chosen labels]}' : '{"label": the chosen label}';
}

export const classifyTask = defineTask<ClassifyOptions, ClassifyResult>({
  name: "classify",
  version: 1,
  multiImage: "batch",
  optionsSchema: classifyOptionsSchema,
  resultSchema: classifyResultSchema,
  build(options, { imageCount }) {
    const perImage = answerSchema(options);
    const prompt =
      imageCount === 1
        ? `Classify this image. ${instruction(options)} Return JSON ${answerShape(options)}.`
        : `Classify each of the ${imageCount} images above, labelled ${keyRange(imageCount)}. ${instruction(options)} ` +
          `Return a JSON object with one key per image label; each value is ${answerShape(options)}.`;
    return {
      prompt,
      parts: layoutParts(imageCount, prompt),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: imageCount === 1 ? perImage : keyedSchema(imageCount, perImage),
        temperature: 0,
      },
    };
  },
  parse(answer, options, context) {
    return Promise.resolve(
      parseSingleOrKeyed(answer, context.images.length, (value, cut, problems) =>
        options.multiLabel
          ? readMulti(value, options, cut, problems)
          : readSingle(value, options, cut, problems),
      ),
    );
  },
});

function readSingle(
  value: unknown,
  options: ClassifyOptions,
  cut: boolean,
  problems: Problem[],
): Draft<ClassifyResult> {
  let raw: unknown = isRecord(value) ? value["label"] : undefined;
  if (typeof value === "string") {
    problems.push({ code: "loose_shape", message: 'a bare string instead of {"label": ...}' });
    raw = value;
  } else if (
    isRecord(value) &&
    raw === undefined &&
    Array.isArray(value["labels"]) &&
    value["labels"].length === 1
  ) {
    problems.push({ code: "loose_shape", message: '{"labels": [one label]} instead of {"label": ...}' });
    raw = value["labels"][0];
  }
  if (typeof raw !== "string") {
    return cut
      ? fail("truncated", "the label was cut off", problems)
      : fail("schema_violation", 'expected {"label": string}', problems);
  }
  const match = matchLabel(raw, options.labels);
  if (match === undefined)
    return fail("label_not_in_set", `label "${raw}" is not one of the labels`, problems);
  if (!match.exact)
    problems.push({ code: "label_normalised", message: `label "${raw}" read as "${match.label}"` });
  return succeed({ labels: [match.label] }, problems, false);
}

function readMulti(
  value: unknown,
  options: ClassifyOptions,
  cut: boolean,
  problems: Problem[],
): Draft<ClassifyResult> {
  let raw: unknown = isRecord(value) ? value["labels"] : undefined;
  if (Array.isArray(value)) {
    problems.push({ code: "loose_shape", message: 'a bare list instead of {"labels": [...]}' });
    raw = value;
  } else if (isRecord(value) && raw === undefined && typeof value["label"] === "string") {
    problems.push({ code: "loose_shape", message: '{"label": ...} instead of {"labels": [...]}' });
    raw = [value["label"]];
  }
  if (!Array.isArray(raw)) {
    return cut
      ? fail("truncated", "the labels were cut off", problems)
      : fail("schema_violation", 'expected {"labels": [string]}', problems);
  }
  const labels: string[] = [];
  for (const item of raw) {
    const match = typeof item === "string" ? matchLabel(item, options.labels) : undefined;
    if (match === undefined) {
      problems.push({
        code: "label_not_in_set",
        message: `label ${JSON.stringify(item)} is not one of the labels; dropped`,
      });
      continue;
    }
    if (!match.exact)
      problems.push({
        code: "label_normalised",
        message: `label "${String(item)}" read as "${match.label}"`,
      });
    if (!labels.includes(match.label)) labels.push(match.label);
  }
  // Keep the order of the options so equal answers compare equal.
  labels.sort((a, b) => options.labels.indexOf(a) - options.labels.indexOf(b));
  return succeed({ labels }, problems, false);
}
