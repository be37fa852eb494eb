import type { PixelBox } from "@tessera/imaging";
import { z } from "zod";
import { readSpatialItems, type SpatialItem } from "./boxes.ts";
import type { ModelAnswer, ParseContext } from "./contract.ts";
import type { JsonSchema } from "./json-schema.ts";
import { quoteLabels, labelListSchema } from "./labels.ts";
import { fail, readJsonAnswer, type Draft } from "./outcome.ts";
import { thinkingBudgetSchema } from "./thinking.ts";
import type { Problem, WarningCode } from "./warnings.ts";

/** Options shared by detect and segment. */
export function spatialOptionsSchema(defaultMaxItems: number) {
  return z.object({
    /** Only these kinds of item, named exactly so; default: all prominent items. */
    labels: labelListSchema(1).optional(),
    /** Asked for in the prompt and the schema: long lists are what run out of output tokens. */
    maxItems: z.number().int().min(1).max(1000).default(defaultMaxItems),
    /** Overrides the per-model default (0, thinking off, where the model allows it). */
    thinkingBudget: thinkingBudgetSchema,
  });
}

export const pixelBoxSchema = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .describe("[x0, y0, x1, y1] in the original image's display pixels (after EXIF orientation)");

/** What to look for, ending the request's first sentence. */
export function targetPhrase(labels: readonly string[] | undefined): string {
  return labels === undefined
    ? "all of the prominent items in the image"
    : `every instance of these items in the image: ${quoteLabels(labels)}`;
}

export function labelPhrase(labels: readonly string[] | undefined): string {
  return labels === undefined ? "Use descriptive labels." : "Each label must be one of the listed items.";
}

/** box_2d: four integers, [ymin, xmin, ymax, xmax] on 0..1000. */
export function box2dSchema(): JsonSchema {
  return { type: "array", items: { type: "integer" }, minItems: 4, maxItems: 4 };
}

export type SpatialRead =
  | { ok: true; items: SpatialItem[]; answerProblems: Problem[]; problems: Problem[]; partial: boolean }
  | { ok: false; draft: Draft<never>; answerProblems: Problem[] };

/** The answer's items with boxes in original display pixels, or why there are none. */
export function readSpatialAnswer(
  answer: ModelAnswer,
  context: ParseContext,
  labels: readonly string[] | undefined,
): SpatialRead {
  const image = context.images[0];
  if (context.images.length !== 1 || image === undefined) {
    throw new RangeError(`detect and segment parse one image per answer, got ${context.images.length}`);
  }
  const read = readJsonAnswer(answer);
  if (!read.ok) return { ok: false, draft: fail(read.code, read.error), answerProblems: read.problems };
  const answerProblems = [...read.json.problems];
  const problems: Problem[] = [];
  const items = readSpatialItems(read.json, image.transform, { labels }, problems);
  if (items === undefined) {
    const code: WarningCode = read.json.truncated ? "truncated" : "schema_violation";
    const draft = fail<never>(code, "expected a JSON list of items with box_2d and label", problems);
    return { ok: false, draft, answerProblems };
  }
  return { ok: true, items, answerProblems, problems, partial: read.json.truncated };
}

export function boxArea(box: PixelBox): number {
  return (box[2] - box[0]) * (box[3] - box[1]);
}
