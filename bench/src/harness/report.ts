import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("../../results/", import.meta.url));

export interface Metric {
  name: string;
  unit: string;
  /** One value per measured run. */
  samples: number[];
}

export interface Target {
  metric: string;
  op: ">=" | "<=" | "==";
  value: number;
  /** How the issue phrases it, e.g. ">= 0.7x the bare loop". */
  label: string;
}

export interface ScenarioResult {
  metrics: Metric[];
  targets: Target[];
  /** Sizes, knobs and anything needed to read the figures (what ran, against what). */
  conditions: Record<string, unknown>;
  /** Free-form findings: where time or memory went. */
  notes?: string[];
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export function targetMet(target: Target, value: number): boolean {
  switch (target.op) {
    case ">=":
      return value >= target.value;
    case "<=":
      return value <= target.value;
    case "==":
      return value === target.value;
  }
}

function fmt(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** The table printed at the end: median, min-max, and the target each metric is held to. */
export function table(result: ScenarioResult): string {
  const rows = result.metrics.map((m) => {
    const s = summarize(m.samples);
    const target = result.targets.find((t) => t.metric === m.name);
    const verdict =
      target === undefined ? "" : `${target.label}: ${targetMet(target, s.median) ? "met" : "MISSED"}`;
    const range = m.samples.length > 1 ? `${fmt(s.min)} - ${fmt(s.max)}` : "";
    return [m.name, m.unit, fmt(s.median), range, String(m.samples.length), verdict];
  });
  const header = ["metric", "unit", "median", "min - max", "runs", "target"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function writeResult(scenario: string, result: ScenarioResult, startedAt: Date): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${scenario}.json`;
  const body = {
    scenario,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    conditions: result.conditions,
    metrics: result.metrics.map((m) => ({ ...m, ...summarize(m.samples) })),
    targets: result.targets.map((t) => {
      const metric = result.metrics.find((m) => m.name === t.metric);
      const median = metric === undefined ? undefined : summarize(metric.samples).median;
      return { ...t, median, met: median !== undefined && targetMet(t, median) };
    }),
    notes: result.notes ?? [],
  };
  writeFileSync(file, JSON.stringify(body, null, 2) + "\n");
  return file;
}
