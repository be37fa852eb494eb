import { UsageError, errorMessage, newRunId, type RunConfig, type Task } from "@tessera/core";
import { priceFor, UnknownPriceError, type ModelPrice } from "@tessera/config";
import { enqueueFinalize } from "@tessera/queue";
import { bindTask, requestTexts } from "@tessera/tasks";
import { isUnder, type Storage } from "@tessera/storage";
import type { IngestDeps } from "./deps.ts";
import { estimateFromScan } from "./estimate.ts";
import { runSink, scanSource, type ScanProgress } from "./scan.ts";

export interface RunRequest {
  source: string;
  out: string;
  task: Task;
  /** The task's options as given (flags); checked against the task's schema before anything runs. */
  taskOptions?: unknown;
  model: string;
  runId?: string;
  maxOutputTokens: number;
  detail: "low" | "standard" | "original";
  convert: "convert" | "skip";
  transport?: "auto" | "inline" | "files" | "url";
  keepFiles?: boolean;
  /** Reuse annotations of earlier runs under the same output (default true); false pays again. */
  cache?: boolean;
  budget?: { maxTokens?: number; maxCostUsd?: number };
  /** Needed to check a cost budget can be priced before anything is spent. */
  prices: Readonly<Record<string, ModelPrice>>;
  /** Ranged header reads in flight while listing. */
  probeConcurrency?: number;
  onProgress?: (progress: ScanProgress) => void;
}

export interface RunStarted {
  runId: string;
  images: number;
  skipped: number;
  cancelled?: boolean;
}

/**
 * Checks both locations and returns the prefix of the source that holds the output, if any:
 * a run never scans its own outputs.
 */
async function checkLocations(source: Storage, out: Storage): Promise<string | undefined> {
  await source.checkAccess();
  await out.checkAccess({ write: true });
  const inside = isUnder(source.location, out.location);
  if (inside === "") {
    throw new UsageError(
      `--out ${out.describe()} is the source location itself: choose a sub-folder or another location`,
    );
  }
  return inside;
}

/** Lists, enqueues, then marks the run scanned; a listing failure fails the run with its reason. */
async function scanAndMark(
  deps: IngestDeps,
  config: RunConfig,
  source: Storage,
  excludedPrefix: string | undefined,
  texts: readonly string[],
  request: Pick<RunRequest, "probeConcurrency" | "onProgress"> & {
    estimate?: boolean;
    prices?: Readonly<Record<string, ModelPrice>>;
  },
): Promise<RunStarted> {
  const log = deps.log.child({ runId: config.runId });
  let scanned;
  try {
    scanned = await scanSource(runSink(deps, config.runId), { ...config, texts }, source, deps.now, {
      ...(excludedPrefix === undefined ? {} : { excludedPrefix }),
      ...(request.probeConcurrency === undefined ? {} : { probeConcurrency: request.probeConcurrency }),
      ...(request.onProgress === undefined ? {} : { onProgress: request.onProgress }),
    });
  } catch (err) {
    await deps.runs.setStatus(config.runId, "failed", `listing failed: ${errorMessage(err)}`);
    throw err;
  }
  if (request.estimate) {
    const estimate = estimateFromScan(config, scanned, request.prices);
    await deps.runs.setEstimate(config.runId, {
      prompt: estimate.promptTokens,
      output: estimate.outputTokens,
      costMicros: estimate.costMicros ?? 0,
    });
  }
  const state = await deps.runs.markScanned(config.runId, scanned.images);
  if (state === "completed-run") {
    await enqueueFinalize(deps.runs, deps.producer, config.runId);
  }
  log.info("run scanned", { listed: scanned.listed, images: scanned.images, skipped: scanned.skipped });
  return {
    runId: config.runId,
    images: scanned.images,
    skipped: scanned.skipped,
    cancelled: scanned.cancelled,
  };
}

/**
 * Starts a run: checks both locations, lists the source (streaming), recognises images by their
 * bytes, records everything else as skipped and enqueues one annotate job per image. Nothing is
 * enqueued when a location is wrong.
 */
export async function startRun(deps: IngestDeps, request: RunRequest): Promise<RunStarted> {
  const source = deps.storage(request.source);
  const out = deps.storage(request.out);
  const excluded = await checkLocations(source, out);

  if (request.budget?.maxCostUsd !== undefined) {
    try {
      priceFor(request.prices, request.model);
    } catch (err) {
      if (err instanceof UnknownPriceError) throw new UsageError(`--max-cost: ${err.message}`);
      throw err;
    }
  }

  // Bad task options are a usage error here, before anything is listed or enqueued.
  const task = bindTask(request.task, request.taskOptions ?? {}, request.model);
  if (task.multiImage === "set") {
    throw new UsageError(
      `--task ${request.task} compares sets of images, which runs cannot form yet (pairs from a manifest are not built)`,
    );
  }
  const taskRequest = task.build(1);

  const first = await source.list({ pageSize: 1 })[Symbol.asyncIterator]().next();
  if (first.done) throw new UsageError(`no objects under ${source.describe()}: nothing to annotate`);

  const now = deps.now();
  const config: RunConfig = {
    runId: request.runId ?? newRunId(now),
    task: request.task,
    model: request.model,
    prompt: taskRequest.prompt,
    taskOptions: JSON.stringify(task.options),
    configHash: task.configHash,
    source: request.source,
    out: request.out,
    createdAt: now.toISOString(),
    maxOutputTokens: request.maxOutputTokens,
    detail: request.detail,
    convert: request.convert,
    transport: request.transport ?? "auto",
    keepFiles: request.keepFiles ?? false,
    cache: request.cache ?? true,
    ...(request.budget?.maxTokens === undefined ? {} : { budgetMaxTokens: request.budget.maxTokens }),
    ...(request.budget?.maxCostUsd === undefined
      ? {}
      : { budgetMaxCostMicros: Math.floor(request.budget.maxCostUsd * 1e6) }),
  };
  await deps.runs.create(config);
  deps.log.info("run created", { runId: config.runId, source: source.describe(), out: out.describe() });
  return scanAndMark(deps, config, source, excluded, requestTexts(taskRequest), {
    ...request,
    estimate: true,
  });
}

/**
 * Continues a run whose scan did not finish (the ingest process died, or listing failed): lists
 * the source again, skipping every object that already has an outcome and every job already
 * queued (stable job ids), then marks it scanned. A run that was fully scanned is left alone.
 */
export async function resumeRun(
  deps: IngestDeps,
  runId: string,
  request: Pick<RunRequest, "probeConcurrency" | "onProgress"> = {},
): Promise<RunStarted> {
  const run = await deps.runs.require(runId);
  if (run.scanned) {
    throw new UsageError(
      `run ${runId} finished scanning (status ${run.status}); use \`tessera retry ${runId} --failed\` to send failures again`,
    );
  }
  if (run.status !== "scanning" && run.status !== "failed") {
    throw new UsageError(
      `run ${runId} is ${run.status}: only a run that stopped while scanning can be resumed`,
    );
  }
  if (run.status === "failed") await deps.runs.setStatus(runId, "scanning", "resumed");
  const source = deps.storage(run.source);
  const excluded = await checkLocations(source, deps.storage(run.out));
  deps.log.info("run resumed", { runId });
  const texts = requestTexts(bindTask(run.task, JSON.parse(run.taskOptions) as unknown, run.model).build(1));
  return scanAndMark(deps, run, source, excluded, texts, request);
}
