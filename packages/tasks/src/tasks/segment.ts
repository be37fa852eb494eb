import { z } from "zod";
import { defineTask } from "../contract.ts";
import { layoutParts } from "../image-keys.ts";
import type { JsonSchema } from "../json-schema.ts";
import { decodeMask } from "../mask-decode.ts";
import { maskArea, placeMask } from "../mask-raster.ts";
import { assemble, succeed } from "../outcome.ts";
import { encodeMaskPng } from "../png-encode.ts";
import { rleFromMask } from "../rle.ts";
import {
  box2dSchema,
  labelPhrase,
  pixelBoxSchema,
  readSpatialAnswer,
  spatialOptionsSchema,
  targetPhrase,
} from "../spatial.ts";
import { spatialThinking } from "../thinking.ts";
import type { Problem } from "../warnings.ts";

export const segmentOptionsSchema = spatialOptionsSchema(20);
export type SegmentOptions = z.output<typeof segmentOptionsSchema>;

export const cocoRleSchema = z.object({
  size: z.tuple([z.number().int().positive(), z.number().int().positive()]).describe("[height, width]"),
  counts: z.array(z.number().int().nonnegative()).describe("Column-major runs, starting with 0s"),
});

export const segmentMaskSchema = z.object({
  /** Pixels inside the object. */
  area: z.number().int().positive(),
  /** COCO uncompressed RLE over the whole original display image. */
  rle: cocoRleSchema,
  /** Base64 1-bit greyscale PNG of the whole original display image, white inside. */
  png: z.string(),
});
export type SegmentMask = z.output<typeof segmentMaskSchema>;

export const segmentResultSchema = z.object({
  objects: z.array(
    z.object({
      label: z.string(),
      box: pixelBoxSchema,
      /** Null when the model's mask could not be used (see the warnings). */
      mask: segmentMaskSchema.nullable(),
    }),
  ),
});
export type SegmentResult = z.output<typeof segmentResultSchema>;

export function segmentAnswerSchema(options: SegmentOptions): JsonSchema {
  return {
    type: "array",
    maxItems: options.maxItems,
    items: {
      type: "object",
      properties: {
        box_2d: box2dSchema(),
        mask: { type: "string" },
        label:
          options.labels === undefined ? { type: "string" } : { type: "string", enum: [...options.labels] },
      },
      required: ["box_2d", "mask", "label"],
      propertyOrdering: ["box_2d", "mask", "label"],
    },
  };
}

/**
 * The guide's segmentation request. Each mask is a probability map over its box: it is fitted to
 * the box in the original's display pixels (bilinear), binarised above 127 and stored over the
 * whole image as COCO RLE and as a PNG.
 */
export const segmentTask = defineTask<SegmentOptions, SegmentResult>({
  name: "segment",
  version: 1,
  multiImage: "no",
  optionsSchema: segmentOptionsSchema,
  resultSchema: segmentResultSchema,
  build(options, { imageCount, model }) {
    if (imageCount !== 1) throw new RangeError(`segment sends one image per request, got ${imageCount}`);
    const prompt =
      `Give the segmentation masks for ${targetPhrase(options.labels)}. ` +
      `Output a JSON list of segmentation masks where each entry contains the 2D bounding box in the key "box_2d", ` +
      `the segmentation mask in key "mask", and the text label in the key "label". ` +
      `The box_2d should be [ymin, xmin, ymax, xmax] normalized to 0-1000; ` +
      `the mask is a base64 PNG probability map (0-255) of the inside of the box. ` +
      `${labelPhrase(options.labels)} Return at most ${options.maxItems} items.`;
    const thinkingConfig = spatialThinking(model, options.thinkingBudget);
    return {
      prompt,
      parts: layoutParts(1, prompt),
      generationConfig: {
        responseMimeType: "application/json",
        responseJsonSchema: segmentAnswerSchema(options),
        temperature: 0.5,
        ...(thinkingConfig === undefined ? {} : { thinkingConfig }),
      },
    };
  },
  async parse(answer, options, context) {
    const read = readSpatialAnswer(answer, context, options.labels);
    if (!read.ok) return assemble(read.answerProblems, [read.draft]);
    const frame = context.images[0]!.transform.original;
    const problems: Problem[] = read.problems;
    const objects: SegmentResult["objects"] = [];
    for (const item of read.items) {
      const where = `item ${item.index} ("${item.label}")`;
      const map = await decodeMask(item.raw["mask"], where, problems);
      let mask: SegmentMask | null = null;
      if (map !== undefined) {
        const placed = placeMask(map, item.box, frame);
        const area = maskArea(placed);
        if (area === 0) {
          problems.push({ code: "mask_empty", message: `${where}: no mask pixel above the threshold` });
        } else {
          mask = { area, rle: rleFromMask(placed), png: encodeMaskPng(placed).toString("base64") };
        }
      }
      objects.push({ label: item.label, box: item.box, mask });
    }
    return assemble(read.answerProblems, [succeed({ objects }, problems, read.partial)]);
  },
});
