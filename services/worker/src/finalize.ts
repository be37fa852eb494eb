import type { ManifestLine } from "@tessera/core";
import type { RunState } from "@tessera/queue";
import { AccessDeniedError, LocationNotFoundError } from "@tessera/storage";
import type { WorkerDeps } from "./deps.ts";
import { buildExport, readAnnotations, SPATIAL_TASKS } from "./exports.ts";
import { runFiles } from "./layout.ts";

/** run.json: the run's configuration and final figures, for people and tools reading storage. */
export function runSummary(run: RunState): Record<string, unknown> {
  return {
    runId: run.runId,
    status: run.status,
    task: run.task,
    model: run.model,
    prompt: run.prompt,
    source: run.source,
    out: run.out,
    createdAt: run.createdAt,
    scannedAt: run.scannedAt,
    finishedAt: run.finishedAt,
    counts: {
      objects: run.objects,
      images: run.images,
      done: run.done,
      cached: run.cached,
      failed: run.failed,
      blocked: run.blocked,
      unchanged: run.unchanged,
      skipped: run.skipped,
      budgetSkipped: run.budget_skipped,
      cancelled: run.cancelled,
    },
    tokens: { prompt: run.tokens_prompt, output: run.tokens_output, image: run.tokens_image },
    estimate: {
      promptTokens: run.estimate_tokens_prompt,
      outputTokens: run.estimate_tokens_output,
      costUsd: run.estimate_cost_micros / 1e6,
    },
    costUsd: run.cost_micros / 1e6,
    budget: {
      maxTokens: run.budgetMaxTokens ?? null,
      maxCostUsd: run.budgetMaxCostMicros === undefined ? null : run.budgetMaxCostMicros / 1e6,
    },
  };
}

/**
 * Writes manifest.jsonl (one line per source object, sorted by key) and the final run.json, then
 * marks the run completed. Safe to run twice: both files are rewritten whole.
 */
export async function finalizeRun(deps: WorkerDeps, runId: string): Promise<void> {
  const run = await deps.runs.require(runId);
  if (!["finalizing", "completed", "budget_exhausted", "cancelled"].includes(run.status)) {
    throw new Error(`run ${runId} is ${run.status}, not ready to finalize`);
  }
  try {
    await writeRunFiles(deps, run);
  } catch (err) {
    if (!(err instanceof LocationNotFoundError || err instanceof AccessDeniedError)) throw err;
    // Retrying cannot bring a bucket back: say so. The outcomes stay in Redis (`tessera status`).
    const reason = `could not write the run's files: ${err.message}; every outcome is kept in Redis`;
    deps.log.error("run failed", { runId, error: reason });
    await deps.runs.setStatus(runId, "failed", run.haltReason ? `${run.haltReason}; ${reason}` : reason);
  }
}

async function writeRunFiles(deps: WorkerDeps, run: RunState): Promise<void> {
  const runId = run.runId;
  // The whole manifest is held in memory to sort it: ~200 bytes a line, so ~200 MB per million
  // images. A streamed multipart upload from a sorted Redis index would lift that bound.
  const lines: ManifestLine[] = [];
  for await (const line of deps.runs.items(runId)) lines.push(line);
  lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const out = deps.storage(run.out);
  await out.put(
    runFiles.manifest(runId),
    lines.map((l) => JSON.stringify(l)).join("\n") + (lines.length ? "\n" : ""),
    {
      contentType: "application/x-ndjson",
    },
  );
  const finishedAt = deps.now();
  if (SPATIAL_TASKS.has(run.task)) {
    // COCO for the whole run (all annotations are read back: fine up to a few hundred thousand
    // images; `tessera export` rebuilds it any time).
    const coco = buildExport(
      { ...run, finishedAt: finishedAt.toISOString() },
      await readAnnotations(out, runId),
      "coco",
    );
    await out.put(runFiles.coco(runId), coco.body, { contentType: coco.contentType });
  }
  const status = run.haltReason
    ? "failed"
    : run.cancelRequested
      ? "cancelled"
      : run.budget_skipped > 0
        ? "budget_exhausted"
        : "completed";
  const final: RunState = { ...run, status, finishedAt: finishedAt.toISOString() };
  await out.put(runFiles.runJson(runId), JSON.stringify(runSummary(final), null, 2) + "\n", {
    contentType: "application/json",
  });
  // Uploads nobody else needs are deleted with the run (they would expire in 48 h anyway).
  if (deps.files) {
    try {
      await deps.files.releaseRun(runId, { keep: run.keepFiles });
    } catch (err) {
      deps.log.warn("could not delete the run's uploaded files", { runId, error: String(err) });
    }
  }
  await deps.runs.setStatus(
    runId,
    status,
    status === "budget_exhausted"
      ? `${run.budget_skipped} images skipped: budget spent`
      : status === "cancelled"
        ? `cancelled; ${run.cancelled} images not sent`
        : run.haltReason,
    finishedAt,
  );
  deps.log.info("run completed", { runId, done: run.done, failed: run.failed, skipped: run.skipped });
}
