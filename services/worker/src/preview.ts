import type { Annotation } from "@tessera/core";
import type { RunState } from "@tessera/queue";
import { locatedObjects, renderPreview, type ExportRecord } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";
import { runFiles } from "./layout.ts";

/**
 * For detect and segment: a picture of what was found, drawn on the original (orientation
 * applied). The source bytes are read only when there is something to draw.
 */
export async function writePreview(
  deps: WorkerDeps,
  run: RunState,
  unitKey: string,
  annotation: Annotation,
  sourceBytes: () => Promise<Buffer>,
): Promise<void> {
  const objects = annotation.set
    ? undefined
    : locatedObjects({
        task: run.task,
        result: annotation.result,
        source: annotation.source,
      } as ExportRecord);
  if (objects === undefined) return;
  const preview = await renderPreview(await sourceBytes(), objects);
  await deps
    .storage(run.out)
    .put(runFiles.preview(run.runId, unitKey), preview, { contentType: "image/png" });
}
