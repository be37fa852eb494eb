import type { BoundTask } from "./registry.ts";

/**
 * The task one request uses: the run's own, or, for an image that carries its own question
 * (vqa with --questions), the run's task with that question. Scans and workers both call this,
 * so the estimate prices the request the worker sends.
 */
export function requestTask(
  task: BoundTask,
  images: readonly { question?: string | undefined }[],
): BoundTask {
  const question = images.length === 1 ? images[0]!.question : undefined;
  return question === undefined ? task : task.rebind({ question });
}
