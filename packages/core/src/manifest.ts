import { z } from "zod";
import { ERROR_CLASSES } from "./errors.ts";

/** `unchanged`: an incremental (scheduled) run found the same object (same ETag) done by an earlier run. */
export const ITEM_STATUSES = ["done", "failed", "blocked", "skipped", "unchanged"] as const;
export const itemStatusSchema = z.enum(ITEM_STATUSES);
export type ItemStatus = z.infer<typeof itemStatusSchema>;

/** One line of manifest.jsonl: the final word on one source object (or compare set) of a run. */
export const manifestLineSchema = z.object({
  key: z.string().describe("The source object's key; in a compare run, the set's id"),
  /** A compare set's member keys, in the order they were sent (img_1, img_2, ...). */
  members: z.array(z.string()).optional(),
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
      class: z
        .enum([...ERROR_CLASSES, "not_an_image", "unselected", "budget", "cancelled"])
        .describe("unselected: an image the run was not asked about (vqa --questions names it not)"),
      message: z.string(),
    })
    .optional(),
  attempts: z.number().int().nonnegative().optional(),
  /** For `unchanged`: the run whose annotation (`annotationKey`) still holds for this object. */
  previousRunId: z.string().optional(),
  at: z.iso.datetime(),
});
export type ManifestLine = z.infer<typeof manifestLineSchema>;
