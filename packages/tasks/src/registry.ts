import { annotationSchema, UsageError } from "@tessera/core";
import { z } from "zod";
import type {
  ModelAnswer,
  MultiImageMode,
  ParseContext,
  ParseOutcome,
  TaskDefinition,
  TaskName,
  TaskRequest,
} from "./contract.ts";
import { captionTask, type CaptionResult } from "./tasks/caption.ts";
import { classifyTask, type ClassifyResult } from "./tasks/classify.ts";
import { compareTask, type CompareResult } from "./tasks/compare.ts";
import { customTask, type CustomResult } from "./tasks/custom.ts";
import { detectTask, type DetectResult } from "./tasks/detect.ts";
import { segmentTask, type SegmentResult } from "./tasks/segment.ts";
import { vqaTask, type VqaResult } from "./tasks/vqa.ts";

export const TASKS = {
  caption: captionTask,
  classify: classifyTask,
  vqa: vqaTask,
  detect: detectTask,
  segment: segmentTask,
  compare: compareTask,
  custom: customTask,
} as const;

/** The result type of each task, by name. */
export interface TaskResults {
  caption: CaptionResult;
  classify: ClassifyResult;
  vqa: VqaResult;
  detect: DetectResult;
  segment: SegmentResult;
  compare: CompareResult;
  custom: CustomResult;
}
export type TaskResult = TaskResults[TaskName];

/**
 * `{task, result}` for every task: what the annotation schema plugs in, so a reader narrows the
 * result by the task name.
 */
export const taskResultUnionSchema = z.discriminatedUnion("task", [
  z.object({ task: z.literal("caption"), result: captionTask.resultSchema }),
  z.object({ task: z.literal("classify"), result: classifyTask.resultSchema }),
  z.object({ task: z.literal("vqa"), result: vqaTask.resultSchema }),
  z.object({ task: z.literal("detect"), result: detectTask.resultSchema }),
  z.object({ task: z.literal("segment"), result: segmentTask.resultSchema }),
  z.object({ task: z.literal("compare"), result: compareTask.resultSchema }),
  z.object({ task: z.literal("custom"), result: customTask.resultSchema }),
]);
export type TaskResultUnion = z.output<typeof taskResultUnionSchema>;

/**
 * A task with its options checked and settled: what a run stores and a worker uses, without
 * carrying the option types around (they differ per task).
 */
export interface BoundTask<R = TaskResult> {
  name: TaskName;
  multiImage: MultiImageMode;
  /** The options with defaults filled in, as plain JSON (store this in the run config). */
  options: unknown;
  model: string;
  configHash: string;
  build(imageCount: number): TaskRequest;
  parse(answer: ModelAnswer, context: ParseContext): Promise<ParseOutcome<R>>;
  /** The same task with some options replaced (e.g. one image's own vqa question), checked again. */
  rebind(patch: Readonly<Record<string, unknown>>): BoundTask<R>;
}

/**
 * Checks `rawOptions` (e.g. from flags or a stored run config) against the task's schema and
 * binds them. Bad options are a UsageError naming each problem: exit 2, nothing enqueued.
 */
export function bindTask(name: TaskName, rawOptions: unknown, model: string): BoundTask {
  switch (name) {
    case "caption":
      return bind(TASKS.caption, rawOptions, model);
    case "classify":
      return bind(TASKS.classify, rawOptions, model);
    case "vqa":
      return bind(TASKS.vqa, rawOptions, model);
    case "detect":
      return bind(TASKS.detect, rawOptions, model);
    case "segment":
      return bind(TASKS.segment, rawOptions, model);
    case "compare":
      return bind(TASKS.compare, rawOptions, model);
    case "custom":
      return bind(TASKS.custom, rawOptions, model);
  }
}

export function bind<O, R>(task: TaskDefinition<O, R>, rawOptions: unknown, model: string): BoundTask<R> {
  const parsed = task.optionsSchema.safeParse(rawOptions ?? {});
  if (!parsed.success) {
    throw new UsageError(`invalid options for task ${task.name}:\n${z.prettifyError(parsed.error)}`);
  }
  const options = parsed.data;
  return {
    name: task.name,
    multiImage: task.multiImage,
    options,
    model,
    configHash: task.configHash(options, model),
    build: (imageCount) => task.build(options, { imageCount, model }),
    parse: (answer, context) => task.parse(answer, options, context),
    rebind: (patch) => bind(task, { ...(options as Record<string, unknown>), ...patch }, model),
  };
}

/**
 * The whole annotation file: the common members (packages/core) with `result` typed by `task`.
 * Published as docs/annotation.schema.json.
 */
export const annotationFileSchema = z.intersection(
  annotationSchema.omit({ task: true, result: true }),
  taskResultUnionSchema,
);
export type AnnotationFile = z.output<typeof annotationFileSchema>;
