import type { ManifestLine } from "@tessera/core";
import type { RunState, ScheduleState } from "@tessera/queue";

const ENDED = new Set(["completed", "budget_exhausted", "failed", "cancelled"]);

/** What the runs list and the run page show of one run, computed from its Redis hash. */
export interface RunView {
  runId: string;
  status: string;
  statusReason?: string;
  task: string;
  model: string;
  source: string;
  out: string;
  createdAt: string;
  finishedAt?: string;
  scheduleId?: string;
  baseRunId?: string;
  scanned: boolean;
  ended: boolean;
  counts: {
    images: number;
    settled: number;
    done: number;
    failed: number;
    blocked: number;
    skipped: number;
    unchanged: number;
    budgetSkipped: number;
    cancelled: number;
  };
  /** Settled images over images, 0..1; null while the scan has not counted the images. */
  progress: number | null;
  tokens: { prompt: number; output: number; image: number };
  estimate: { promptTokens: number; outputTokens: number; costUsd: number; donePromptTokens: number };
  costUsd: number;
  budget: { maxTokens?: number; maxCostUsd?: number; tokensLeft?: number; costLeftUsd?: number };
  elapsedS: number;
  /** Images settled per second since the run was created. */
  ratePerS: number;
  etaS: number | null;
}

export function runView(run: RunState, now: Date): RunView {
  const settled = run.done + run.failed + run.blocked + run.budget_skipped + run.cancelled;
  const ended = ENDED.has(run.status);
  const start = Date.parse(run.createdAt);
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now.getTime();
  const elapsedS = Math.max(0, (end - start) / 1000);
  const ratePerS = elapsedS > 0 ? settled / elapsedS : 0;
  const remaining = Math.max(0, run.images - settled);
  const budget: RunView["budget"] = {};
  if (run.budgetMaxTokens !== undefined) {
    budget.maxTokens = run.budgetMaxTokens;
    budget.tokensLeft = Math.max(0, run.budgetMaxTokens - run.budget_tokens);
  }
  if (run.budgetMaxCostMicros !== undefined) {
    budget.maxCostUsd = run.budgetMaxCostMicros / 1e6;
    budget.costLeftUsd = Math.max(0, run.budgetMaxCostMicros - run.budget_cost_micros) / 1e6;
  }
  return {
    runId: run.runId,
    status: run.status,
    ...(run.statusReason === undefined ? {} : { statusReason: run.statusReason }),
    task: run.task,
    model: run.model,
    source: run.source,
    out: run.out,
    createdAt: run.createdAt,
    ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
    ...(run.scheduleId === undefined ? {} : { scheduleId: run.scheduleId }),
    ...(run.baseRunId === undefined ? {} : { baseRunId: run.baseRunId }),
    scanned: run.scanned,
    ended,
    counts: {
      images: run.images,
      settled,
      done: run.done,
      failed: run.failed,
      blocked: run.blocked,
      skipped: run.skipped,
      unchanged: run.unchanged,
      budgetSkipped: run.budget_skipped,
      cancelled: run.cancelled,
    },
    progress: run.scanned ? (run.images === 0 ? 1 : Math.min(1, settled / run.images)) : null,
    tokens: { prompt: run.tokens_prompt, output: run.tokens_output, image: run.tokens_image },
    estimate: {
      promptTokens: run.estimate_tokens_prompt,
      outputTokens: run.estimate_tokens_output,
      costUsd: run.estimate_cost_micros / 1e6,
      donePromptTokens: run.estimate_done_prompt,
    },
    costUsd: run.cost_micros / 1e6,
    budget,
    elapsedS,
    ratePerS,
    etaS: ended || !run.scanned || ratePerS === 0 ? null : remaining / ratePerS,
  };
}

export interface ErrorClassView {
  class: string;
  count: number;
  examples: { key: string; message: string }[];
}

/** What the run page shows from the run's outcomes (items): throughput over time and errors. */
export interface ItemsDigest {
  /** Outcomes per time bucket (bucket start in ms since the epoch). */
  throughput: { bucketS: number; points: { t: number; done: number; failed: number }[] };
  errors: ErrorClassView[];
  /** Keys of images done by this run (the gallery's candidates), first ones by key order. */
  doneKeys: string[];
  lines: number;
  /** True when the run had more outcomes than were read. */
  truncated: boolean;
}

const MAX_POINTS = 60;

/**
 * One pass over a run's outcomes. Failed and blocked images are grouped by error class with a
 * few examples; outcomes are counted per time bucket, sized so the chart has at most 60 points.
 */
export function digestItems(
  lines: Iterable<ManifestLine>,
  options: { examples?: number; doneKeys?: number; truncated?: boolean } = {},
): ItemsDigest {
  const examples = options.examples ?? 3;
  const byClass = new Map<string, ErrorClassView>();
  const times: { t: number; ok: boolean }[] = [];
  const doneKeys: string[] = [];
  let count = 0;
  for (const line of lines) {
    count++;
    if (line.status === "done") {
      times.push({ t: Date.parse(line.at), ok: true });
      if (line.annotationKey !== undefined) doneKeys.push(line.key);
    } else if (line.status === "failed" || line.status === "blocked") {
      times.push({ t: Date.parse(line.at), ok: false });
      const cls = line.status === "blocked" ? "blocked" : (line.error?.class ?? "unknown");
      const view = byClass.get(cls) ?? { class: cls, count: 0, examples: [] };
      view.count++;
      if (view.examples.length < examples) {
        view.examples.push({ key: line.key, message: line.error?.message ?? "" });
      }
      byClass.set(cls, view);
    }
  }
  doneKeys.sort();
  return {
    throughput: buckets(times),
    errors: [...byClass.values()].sort((a, b) => b.count - a.count || a.class.localeCompare(b.class)),
    doneKeys: doneKeys.slice(0, options.doneKeys ?? 48),
    lines: count,
    truncated: options.truncated ?? false,
  };
}

function buckets(times: { t: number; ok: boolean }[]): ItemsDigest["throughput"] {
  if (times.length === 0) return { bucketS: 1, points: [] };
  let min = Infinity;
  let max = -Infinity;
  for (const { t } of times) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  // One point fewer than the maximum: aligning the first bucket can add one.
  const bucketS = Math.max(1, Math.ceil((max - min + 1) / 1000 / (MAX_POINTS - 1)));
  const size = bucketS * 1000;
  const first = Math.floor(min / size) * size;
  const n = Math.floor((max - first) / size) + 1;
  const points = Array.from({ length: n }, (_, i) => ({ t: first + i * size, done: 0, failed: 0 }));
  for (const { t, ok } of times) {
    const point = points[Math.floor((t - first) / size)]!;
    if (ok) point.done++;
    else point.failed++;
  }
  return { bucketS, points };
}

export interface ScheduleView {
  id: string;
  cron: string;
  tz: string;
  task: string;
  source: string;
  out: string;
  paused: boolean;
  next: string | null;
  firings: number;
  lastFiredAt: string | null;
  lastSkipReason: string | null;
  history: RunView[];
}

export function scheduleView(s: ScheduleState, next: Date | undefined, history: RunView[]): ScheduleView {
  return {
    id: s.id,
    cron: s.cron,
    tz: s.tz ?? "UTC",
    task: s.task,
    source: s.source,
    out: s.out,
    paused: s.paused,
    next: next?.toISOString() ?? null,
    firings: s.firings,
    lastFiredAt: s.lastFiredAt ?? null,
    lastSkipReason: s.lastSkipReason ?? null,
    history,
  };
}
