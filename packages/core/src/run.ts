import { randomBytes } from "node:crypto";
import { z } from "zod";

/** Every task of packages/tasks; each run does one. */
export const TASKS = ["caption", "classify", "vqa", "detect", "segment", "compare", "custom"] as const;
export const taskSchema = z.enum(TASKS);
export type Task = z.infer<typeof taskSchema>;

export const RUN_STATUSES = [
  "scanning",
  "running",
  "cancelling",
  "finalizing",
  "completed",
  "budget_exhausted",
  "failed",
  "cancelled",
] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** What a run was asked to do; stored once in Redis and in run.json, read by every worker. */
export const runConfigSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  task: taskSchema,
  model: z.string().min(1),
  prompt: z.string().min(1),
  source: z.string().min(1),
  out: z.string().min(1),
  createdAt: z.iso.datetime(),
  /** The task's options with defaults filled in, as JSON (hashes hold strings). */
  taskOptions: z.string().default("{}"),
  /** sha256 over task, parser version, model, options and the request they build. */
  configHash: z.string().default(""),
  /** How much of each image to send: fit 384x384 ("low"), cap the long side ("standard"), or as is. */
  detail: z.enum(["low", "standard", "original"]).default("standard"),
  /** Formats Gemini does not take (GIF, BMP, TIFF, AVIF): converted to PNG/JPEG, or skipped. */
  convert: z.enum(["convert", "skip"]).default("convert"),
  /** How images reach Gemini: inline, uploaded (Files API), a pre-signed URL, or chosen per image. */
  transport: z.enum(["auto", "inline", "files", "url"]).default("auto"),
  /**
   * Images sent together in one request (caption and classify; 1 for every other task), within
   * the model's own limit: each is labelled in the prompt and keyed in the answer.
   */
  imagesPerRequest: z.coerce.number().int().positive().default(1),
  /** compare: the sets to compare, as JSON [{id, keys}] (from --sets). */
  sets: z.string().optional(),
  /** vqa: each image's own question by source key, as JSON (from --questions). */
  questions: z.string().optional(),
  /** Keep the run's Files API uploads after it ends (they expire after 48 h anyway). */
  keepFiles: z
    .union([z.boolean(), z.enum(["true", "false"])])
    .transform((v) => v === true || v === "true")
    .default(false),
  /**
   * Reuse annotations an earlier run wrote under the same output for the same object (key and
   * ETag) and configuration; false forces new calls (their results still refresh the cache).
   */
  cache: z
    .union([z.boolean(), z.enum(["true", "false"])])
    .transform((v) => v === true || v === "true")
    .default(true),
  /** Output cap per request: bounds the cost of one image, which is what makes budgets hold. */
  maxOutputTokens: z.coerce.number().int().positive(),
  /** Budget over input + output tokens of the whole run. */
  budgetMaxTokens: z.coerce.number().int().positive().optional(),
  /** Budget in micro-dollars (integers add up exactly in Redis). */
  budgetMaxCostMicros: z.coerce.number().int().positive().optional(),
  /** The schedule that started this run, if any. */
  scheduleId: z.string().optional(),
  /** Incremental runs: the earlier successful run whose unchanged images were not sent again. */
  baseRunId: z.string().optional(),
});
export type RunConfig = z.infer<typeof runConfigSchema>;

/**
 * Sortable by creation time and unique without coordination: a UTC timestamp plus random bits.
 * Humans type run ids into `tessera status`, so keep them short and free of separators that
 * shells or S3 consoles treat specially.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")
    .replace("T", "-");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
