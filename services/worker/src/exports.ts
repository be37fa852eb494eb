import { manifestLineSchema, type ManifestLine } from "@tessera/core";
import type { RunState } from "@tessera/queue";
import type { Storage } from "@tessera/storage";
import { annotationFileSchema, buildCoco, toCsv, toJsonl, type AnnotationFile } from "@tessera/tasks";
import { runFiles } from "./layout.ts";

export type ExportFormat = "coco" | "jsonl" | "csv";

/** Tasks whose results are located objects, and so have a COCO export. */
export const SPATIAL_TASKS: ReadonlySet<string> = new Set(["detect", "segment"]);

/** The done annotations of a finished run, read back from its output through its manifest. */
export async function readAnnotations(out: Storage, runId: string): Promise<AnnotationFile[]> {
  const manifest = (await out.get(runFiles.manifest(runId))).toString("utf8");
  const lines: ManifestLine[] = manifest
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => manifestLineSchema.parse(JSON.parse(line)));
  const annotations: AnnotationFile[] = [];
  for (const line of lines) {
    if (line.status !== "done" || line.annotationKey === undefined) continue;
    const json: unknown = JSON.parse((await out.get(line.annotationKey)).toString("utf8"));
    annotations.push(annotationFileSchema.parse(json));
  }
  return annotations;
}

/** Builds one export of a run's annotations; COCO only for detect and segment runs. */
export function buildExport(
  run: Pick<RunState, "runId" | "task" | "taskOptions" | "finishedAt">,
  annotations: AnnotationFile[],
  format: ExportFormat,
): { body: string; contentType: string; skippedObjects?: number } {
  switch (format) {
    case "coco": {
      if (!SPATIAL_TASKS.has(run.task))
        throw new RangeError(`a COCO export needs a detect or segment run, not ${run.task}`);
      const options = JSON.parse(run.taskOptions) as { labels?: string[] };
      const { dataset, skippedObjects } = buildCoco(annotations, {
        ...(options.labels ? { categories: options.labels } : {}),
        description: `Tessera run ${run.runId} (${run.task})`,
        ...(run.finishedAt ? { dateCreated: run.finishedAt } : {}),
      });
      return { body: JSON.stringify(dataset) + "\n", contentType: "application/json", skippedObjects };
    }
    case "jsonl":
      return { body: toJsonl(annotations), contentType: "application/x-ndjson" };
    case "csv":
      return { body: toCsv(annotations), contentType: "text/csv" };
  }
}
