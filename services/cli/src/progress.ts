import type { RunState } from "@tessera/queue";

/** Figures derived from a run's counters, shared by the progress bar, `status` and the summary. */
export function runFigures(run: RunState, now: Date = new Date()) {
  const settled = run.done + run.failed + run.blocked;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now.getTime();
  return {
    settled,
    total: run.images,
    fraction: run.images === 0 ? (run.scanned ? 1 : 0) : settled / run.images,
    elapsedMs: Math.max(0, end - Date.parse(run.createdAt)),
  };
}

/** Micro-dollars as dollars, with enough decimals for cheap runs. */
export function usd(micros: number): string {
  const dollars = micros / 1e6;
  return `$${dollars >= 100 ? dollars.toFixed(2) : dollars.toFixed(4)}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function formatCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/** One line: `[#####.....]  45/100  done 40 failed 5 skipped 2  tokens 12.3k in / 1.1k out  12s`. */
export function progressLine(run: RunState, width = 24, now: Date = new Date()): string {
  const f = runFigures(run, now);
  const filled = Math.round(Math.min(1, f.fraction) * width);
  const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  const total = run.scanned ? String(f.total) : `${f.total}+`;
  return [
    bar,
    `${f.settled}/${total}`,
    `done ${run.done}${run.cached ? ` (${run.cached} cached)` : ""} failed ${run.failed}${run.blocked ? ` blocked ${run.blocked}` : ""} skipped ${run.skipped}`,
    `tokens ${formatCount(run.tokens_prompt)} in / ${formatCount(run.tokens_output)} out`,
    formatDuration(f.elapsedMs),
    run.status,
  ].join("  ");
}

export function summaryText(
  run: RunState,
  failures: { key: string; status: string; message: string }[] = [],
  now: Date = new Date(),
): string {
  const f = runFigures(run, now);
  const problems = failures.map((p) => `    ${p.status} ${p.key}: ${p.message}`);
  const more = run.failed + run.blocked - failures.length;
  return [
    `run ${run.runId}: ${run.status}${run.statusReason ? ` (${run.statusReason})` : ""}`,
    `  images   ${run.images} (done ${run.done}${run.cached ? ` of which ${run.cached} from the cache, no call` : ""}, failed ${run.failed}, blocked ${run.blocked}); skipped ${run.skipped} other objects${run.unchanged ? `; ${run.unchanged} unchanged since ${run.baseRunId ?? "an earlier run"}` : ""}`,
    `  tokens   ${run.tokens_prompt} in (${run.tokens_image} image), ${run.tokens_output} out` +
      (run.estimate_tokens_prompt
        ? `; estimated ${run.estimate_tokens_prompt} in` +
          (run.done > 0 && run.done - run.cached < run.images
            ? ` (${run.estimate_done_prompt} for the ${run.done - run.cached} images done${run.cached ? " by a call" : ""})`
            : "")
        : ""),
    `  cost     ${usd(run.cost_micros)}` +
      (run.estimate_cost_micros ? ` (estimated ${usd(run.estimate_cost_micros)})` : ""),
    ...(run.budgetMaxTokens !== undefined || run.budgetMaxCostMicros !== undefined
      ? [
          `  budget   ${[
            run.budgetMaxTokens === undefined ? "" : `${run.budgetMaxTokens} tokens`,
            run.budgetMaxCostMicros === undefined ? "" : usd(run.budgetMaxCostMicros),
          ]
            .filter(Boolean)
            .join(", ")}; ${run.budget_skipped} images skipped for budget`,
        ]
      : []),
    `  elapsed  ${formatDuration(f.elapsedMs)}`,
    `  source   ${run.source}`,
    `  output   ${run.out.replace(/\/?$/, "/")}${run.runId}/`,
    ...(problems.length ? ["  problems", ...problems] : []),
    ...(more > 0 && problems.length ? [`    ... and ${more} more in manifest.jsonl`] : []),
  ].join("\n");
}
