import { manifestLineSchema, type ManifestLine, type RunConfig } from "@tessera/core";
import type { RunStore } from "@tessera/queue";
import type { ScanSink } from "./scan.ts";

/** What must match for an earlier run's annotations to stand for this run's. */
export type BaselineKey = Pick<RunConfig, "configHash" | "detail" | "convert" | "source" | "out">;

/**
 * The newest successful run among `candidates` (newest first) made with the same task
 * configuration, from the same source to the same output: its annotations still hold for every
 * object whose ETag has not changed. Runs that failed, were cancelled or stopped at their budget
 * are passed over (their missing images must be annotated again).
 */
export async function pickBaseline(
  runs: RunStore,
  candidates: readonly string[],
  key: BaselineKey,
): Promise<string | undefined> {
  for (const runId of candidates) {
    const run = await runs.get(runId);
    if (!run || run.status !== "completed") continue;
    if (
      run.configHash === key.configHash &&
      run.detail === key.detail &&
      run.convert === key.convert &&
      run.source === key.source &&
      run.out === key.out
    ) {
      return runId;
    }
  }
  return undefined;
}

/** Pure: the `unchanged` line for an object, given the baseline run's outcome for its key. */
export function unchangedLine(
  previous: ManifestLine | undefined,
  baseRunId: string,
  object: { key: string; etag: string },
  at: string,
): ManifestLine | undefined {
  if (!previous || previous.etag !== object.etag || previous.annotationKey === undefined) return undefined;
  if (previous.status !== "done" && previous.status !== "unchanged") return undefined;
  return {
    key: object.key,
    etag: object.etag,
    status: "unchanged",
    ...(previous.mime === undefined ? {} : { mime: previous.mime }),
    annotationKey: previous.annotationKey,
    // An unchanged outcome of the baseline points further back, to the run that paid for it.
    previousRunId: previous.previousRunId ?? baseRunId,
    at,
  };
}

/** The scan's hook: looks each listed object up in the baseline run's outcomes. */
export function unchangedSince(runs: RunStore, baseRunId: string): NonNullable<ScanSink["unchanged"]> {
  return async (object, at) => {
    const previous = await runs.itemOutcome(baseRunId, object.key);
    return unchangedLine(
      previous === undefined ? undefined : manifestLineSchema.parse(previous),
      baseRunId,
      object,
      at,
    );
  };
}
