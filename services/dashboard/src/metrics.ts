import { Gauge, Registry } from "prom-client";
import type { DashboardData } from "./data.ts";

/** Runs whose figures are exported: the most recent ones, so label cardinality stays bounded. */
const RUNS_EXPORTED = 20;

/**
 * The fleet's figures as Prometheus gauges, read from Redis at each scrape: queue depth by
 * state, and per recent run its images by outcome, tokens, cost and budget left. Per-process
 * figures (request latency, 429s) are each worker's own /metrics (TESSERA_METRICS_PORT).
 */
export function fleetMetrics(data: DashboardData): Registry {
  const registry = new Registry();
  const depth = new Gauge({
    name: "tessera_queue_jobs",
    help: "BullMQ jobs by queue and state",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const images = new Gauge({
    name: "tessera_run_images",
    help: "Objects of a recent run by outcome (done, failed, blocked, skipped, unchanged, pending)",
    labelNames: ["run", "outcome"] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const tokens = new Gauge({
    name: "tessera_run_tokens",
    help: "Tokens billed to a recent run, by direction (in = prompt, out = output)",
    labelNames: ["run", "direction"] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const cost = new Gauge({
    name: "tessera_run_cost_usd",
    help: "Cost of a recent run: actual so far, and the scan-time estimate",
    labelNames: ["run", "kind"] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const budgetLeft = new Gauge({
    name: "tessera_run_budget_left",
    help: "Budget a recent run has left, in tokens or US dollars (runs with a budget only)",
    labelNames: ["run", "unit"] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const active = new Gauge({
    name: "tessera_runs_active",
    help: "Recent runs that have not ended",
    registers: [registry],
    collect: () => refresh(),
  });
  // prom-client collects every metric at once: they share one read of Redis per scrape, and
  // reset first so runs that left the window disappear.
  let pending: Promise<void> | undefined;
  async function fill(): Promise<void> {
    depth.reset();
    for (const gauge of [images, tokens, cost, budgetLeft]) gauge.reset();
    for (const [queue, counts] of Object.entries(await data.queueDepths())) {
      for (const [state, n] of Object.entries(counts)) depth.set({ queue, state }, n);
    }
    const runs = await data.listRuns(RUNS_EXPORTED);
    active.set(runs.filter((r) => !r.ended).length);
    for (const run of runs) {
      const c = run.counts;
      for (const [outcome, n] of [
        ["done", c.done],
        ["failed", c.failed],
        ["blocked", c.blocked],
        ["skipped", c.skipped],
        ["unchanged", c.unchanged],
        ["pending", Math.max(0, c.images - c.settled)],
      ] as const) {
        images.set({ run: run.runId, outcome }, n);
      }
      tokens.set({ run: run.runId, direction: "in" }, run.tokens.prompt);
      tokens.set({ run: run.runId, direction: "out" }, run.tokens.output);
      cost.set({ run: run.runId, kind: "actual" }, run.costUsd);
      cost.set({ run: run.runId, kind: "estimate" }, run.estimate.costUsd);
      if (run.budget.tokensLeft !== undefined)
        budgetLeft.set({ run: run.runId, unit: "tokens" }, run.budget.tokensLeft);
      if (run.budget.costLeftUsd !== undefined)
        budgetLeft.set({ run: run.runId, unit: "usd" }, run.budget.costLeftUsd);
    }
  }
  function refresh(): Promise<void> {
    pending ??= fill().finally(() => {
      pending = undefined;
    });
    return pending;
  }
  return registry;
}
