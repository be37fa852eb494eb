import { z } from "zod";
import { taskSchema } from "./run.ts";

/** Bumped on any change a consumer could notice; readers branch on it. */
export const ANNOTATION_SCHEMA_VERSION = 1;

export const usageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  imageTokens: z.number().int().nonnegative(),
  thoughtsTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof usageSchema>;

const sourceSchema = z.object({
  uri: z.string().describe("Where the image lives, e.g. s3://bucket/key"),
  key: z.string().describe("Key relative to the run's source location"),
  etag: z.string(),
  mime: z.string(),
  width: z.number().int().positive().describe("Display width in pixels (after EXIF orientation)"),
  height: z.number().int().positive().describe("Display height in pixels (after EXIF orientation)"),
  bytes: z.number().int().nonnegative(),
});

const sentSchema = z
  .object({
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    mime: z.string(),
    bytes: z.number().int().nonnegative(),
    detail: z.enum(["low", "standard", "original"]),
    transport: z.enum(["inline", "files", "url"]),
  })
  .describe("The image Gemini saw: EXIF orientation applied, resized per the run's detail policy");

export const annotationSchema = z
  .object({
    schemaVersion: z.literal(ANNOTATION_SCHEMA_VERSION),
    runId: z.string(),
    task: taskSchema,
    model: z.string().describe("The model Tessera asked for"),
    modelVersion: z.string().optional().describe("The model version Gemini says answered"),
    responseId: z.string().optional(),
    source: sourceSchema,
    sent: sentSchema,
    /** The task's result; its exact shape per task is in @tessera/tasks (taskResultUnionSchema). */
    result: z.unknown(),
    configHash: z.string().describe("sha256 of task, parser version, model, options and request"),
    partial: z.boolean().describe("Part of the answer was cut off (maxOutputTokens): what is here is sound"),
    usage: usageSchema.describe(
      "What this image was billed: the whole request's usage, or with several images its share of it",
    ),
    request: z
      .object({
        images: z.number().int().min(2),
        position: z.number().int().positive().describe("1-based: the image was labelled img_<position>"),
        usage: usageSchema.describe("The whole request's usage, as Gemini reported it"),
      })
      .optional()
      .describe("Present when the image was sent in one request with others (--images-per-request)"),
    set: z
      .object({
        id: z.string(),
        members: z.array(sourceSchema.extend({ sent: sentSchema })).min(2),
      })
      .optional()
      .describe(
        "A compare set's annotation: every member as sent, in order (img_1 ...); source and sent are its first member",
      ),
    finishReason: z.string().optional(),
    warnings: z.array(z.string()),
    cachedFrom: z
      .string()
      .optional()
      .describe(
        "Set when this annotation was reused from the output's annotation cache: the run that paid for it (usage is that run's bill)",
      ),
    startedAt: z.iso.datetime(),
    completedAt: z.iso.datetime(),
  })
  .describe("One Tessera annotation of one source image");
export type Annotation = z.infer<typeof annotationSchema>;
