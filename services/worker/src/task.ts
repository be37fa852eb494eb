import { bindTask, type BoundTask } from "@tessera/tasks";
import type { RunState } from "@tessera/queue";

const bound = new Map<string, BoundTask>();

/** The run's task with its options, bound once per run and process (options never change). */
export function taskOf(run: RunState): BoundTask {
  const key = `${run.runId}\u0000${run.configHash}`;
  let task = bound.get(key);
  if (!task) {
    task = bindTask(run.task, JSON.parse(run.taskOptions) as unknown, run.model);
    if (bound.size > 1_000) bound.clear();
    bound.set(key, task);
  }
  return task;
}
