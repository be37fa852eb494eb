import { z } from "zod";
import { ERROR_CLASSES } from "./errors.ts";

export const ITEM_STATUSES = ["done", "failed", "blocked", "skipped"] as const;
export const itemStatusSchema = z.enum(ITEM_STATUSES);
export type ItemStatus = z.infer<typeof itemStatusSchema>;

/** One line of manifest.jsonl: the final word on one source object of a run. */
export const manifestLineSchema = z.object({
  key: z.string(),
  etag: z.string(),
  status: itemStatusSchema,
  mime: z.string().optional(),
  annotationKey: z.string().optional(),
  /** Done without a Gemini call: an earlier run with the same config annotated this very object. */
  cached: z.boolean().optional(),
  tokens: z
    .object({ prompt: z.number().int(), output: z.number().int(), image: z.number().int() })
    .optional(),
  error: z
    .object({
      class: z.enum([...ERROR_CLASSES, "not_an_image", "budget", "cancelled"]),
      message: z.string(),
    })
    .optional(),
  attempts: z.number().int().nonnegative().optional(),
  at: z.iso.datetime(),
});
export type ManifestLine = z.infer<typeof manifestLineSchema>;
