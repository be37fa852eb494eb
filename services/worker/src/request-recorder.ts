import type { Annotation, ManifestLine, Usage } from "@tessera/core";
import type { RunState } from "@tessera/queue";
import { reuseCachedAnnotation, storeInCache } from "./annotation-cache.ts";
import type { WorkerDeps } from "./deps.ts";
import type { Attempt } from "./prepare-units.ts";
import { doneLine, findWrittenAnnotation, record } from "./record.ts";
import type { Unit } from "./units.ts";

export type AnnotateOutcome = "done" | "already-recorded" | "failed" | "blocked" | "skipped";

/** Records the outcomes of one request's units, keeping the attempt number and the tally. */
export class RequestRecorder {
  readonly #deps: WorkerDeps;
  readonly #run: RunState;
  readonly #attempt: Attempt;
  readonly #outcomes: Map<string, AnnotateOutcome>;

  constructor(deps: WorkerDeps, run: RunState, attempt: Attempt, outcomes: Map<string, AnnotateOutcome>) {
    this.#deps = deps;
    this.#run = run;
    this.#attempt = attempt;
    this.#outcomes = outcomes;
  }

  /** A previous attempt wrote the annotation but died before recording it: record, don't pay again. */
  async reuseWritten(unit: Unit): Promise<boolean> {
    const earlier = await findWrittenAnnotation(this.#deps, this.#run, unit);
    if (!earlier) return false;
    // The crash may have come before the cache entry was written.
    await storeInCache(this.#deps, this.#run, earlier);
    const line = doneLine(unit, earlier, this.#attempt.number, this.#deps.now());
    if ((await record(this.#deps, this.#run.runId, line)) !== "duplicate")
      this.#outcomes.set(unit.key, "done");
    return true;
  }

  /** An earlier run under the same output annotated this very object with the same settings. */
  async reuseCached(unit: Unit): Promise<boolean> {
    const cached = await reuseCachedAnnotation(this.#deps, this.#run, unit);
    if (!cached) return false;
    const line = doneLine(unit, cached, this.#attempt.number, this.#deps.now());
    if ((await record(this.#deps, this.#run.runId, line)) !== "duplicate")
      this.#outcomes.set(unit.key, "done");
    return true;
  }

  async done(unit: Unit, annotation: Annotation, costMicros: number, estimated: number): Promise<void> {
    const line = doneLine(unit, annotation, this.#attempt.number, this.#deps.now());
    if ((await record(this.#deps, this.#run.runId, line, costMicros, estimated)) !== "duplicate") {
      this.#outcomes.set(unit.key, "done");
    }
  }

  async settle(
    unit: Unit,
    status: "failed" | "blocked" | "skipped",
    error: NonNullable<ManifestLine["error"]>,
    /** What the unit was billed although it has no result (an unusable answer). */
    paid?: { usage: Usage; costMicros: number },
  ): Promise<void> {
    const usage = paid?.usage;
    const recorded = await record(
      this.#deps,
      this.#run.runId,
      {
        key: unit.key,
        etag: unit.etag,
        ...(unit.set ? { members: unit.set.members } : {}),
        status,
        ...(unit.mime === undefined ? {} : { mime: unit.mime }),
        ...(usage
          ? { tokens: { prompt: usage.promptTokens, output: usage.outputTokens, image: usage.imageTokens } }
          : {}),
        error,
        attempts: this.#attempt.number,
        at: this.#deps.now().toISOString(),
      },
      paid?.costMicros ?? 0,
    );
    if (recorded !== "duplicate") this.#outcomes.set(unit.key, status);
  }
}
