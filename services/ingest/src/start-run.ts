import { UsageError, errorMessage, newRunId, type RunConfig, type Task } from "@tessera/core";
import { priceFor, UnknownPriceError, type ModelPrice } from "@tessera/config";
import { enqueueFinalize } from "@tessera/queue";
import { bindTask, type BoundTask } from "@tessera/tasks";
import { isUnder, type Storage } from "@tessera/storage";
import { defaultRequestLimits, type IngestDeps } from "./deps.ts";
import { estimateFromScan } from "./estimate.ts";
import { pickBaseline, unchangedSince } from "./incremental.ts";
import { runSink, scanSource, type ScanPlan, type ScanProgress } from "./scan.ts";
import { scanSets } from "./scan-sets.ts";
import type { ImageSet } from "./sets.ts";

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
  /** Images per request (caption and classify): 1 unless asked. */
  imagesPerRequest?: number;
  /** vqa: each image's own question by source key (--questions). */
  questions?: ReadonlyMap<string, string>;
  /** compare: the sets to compare (--sets); required for compare, refused otherwise. */
  sets?: readonly ImageSet[];
  keepFiles?: boolean;
  /** Reuse annotations of earlier runs under the same output (default true); false pays again. */
  cache?: boolean;
  budget?: { maxTokens?: number; maxCostUsd?: number };
  /** Needed to check a cost budget can be priced before anything is spent. */
  prices: Readonly<Record<string, ModelPrice>>;
  /** Ranged header reads in flight while listing. */
  probeConcurrency?: number;
  onProgress?: (progress: ScanProgress) => void;
  /** The schedule that fires this run. */
  scheduleId?: string;
  /**
   * Incremental runs: earlier runs (newest first) whose annotations may stand for objects that
   * did not change; the newest successful one with the same task configuration is used.
   */
  baselineCandidates?: readonly string[];
  /** Called once the run exists in Redis, before the scan. */
  onCreated?: () => Promise<void>;
}

export interface RunStarted {
  runId: string;
  images: number;
  skipped: number;
  unchanged?: number;
  baseRunId?: string;
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
  plan: ScanPlan,
  request: Pick<RunRequest, "probeConcurrency" | "onProgress"> & {
    estimate?: boolean;
    /** The run was just created: nothing has an outcome yet (a resume passes false). */
    fresh?: boolean;
    prices?: Readonly<Record<string, ModelPrice>>;
  },
): Promise<RunStarted> {
  const log = deps.log.child({ runId: config.runId });
  let scanned;
  try {
    const unchanged =
      config.baseRunId === undefined ? undefined : unchangedSince(deps.runs, config.baseRunId);
    const sink = runSink(deps, config.runId, unchanged, request.fresh === true);
    const probeConcurrency = request.probeConcurrency ?? deps.probeConcurrency;
    const concurrency = probeConcurrency === undefined ? {} : { probeConcurrency };
    scanned =
      config.sets === undefined
        ? await scanSource(sink, plan, source, deps.now, {
            ...(excludedPrefix === undefined ? {} : { excludedPrefix }),
            ...concurrency,
            ...(request.onProgress === undefined ? {} : { onProgress: request.onProgress }),
          })
        : await scanSets(sink, plan, JSON.parse(config.sets) as ImageSet[], source, deps.now, concurrency);
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
  log.info("run scanned", {
    listed: scanned.listed,
    images: scanned.images,
    requests: scanned.requests,
    skipped: scanned.skipped,
    unchanged: scanned.unchanged ?? 0,
  });
  return {
    runId: config.runId,
    images: scanned.images,
    skipped: scanned.skipped,
    ...(config.baseRunId === undefined
      ? {}
      : { unchanged: scanned.unchanged ?? 0, baseRunId: config.baseRunId }),
    cancelled: scanned.cancelled,
  };
}

/**
 * A vqa run with --questions and no --question of its own: the run-level question is this
 * placeholder (it names the run's prompt in run.json), never sent: images without a question of
 * their own are skipped as unselected.
 */
export const PER_IMAGE_QUESTIONS = "(each image's own question, from --questions)";

/** How a run's scan packs and prices requests, from its stored config. */
export function scanPlanOf(
  deps: Pick<IngestDeps, "requestLimits">,
  config: RunConfig,
  task: BoundTask,
): ScanPlan {
  const questions =
    config.questions === undefined
      ? undefined
      : new Map(Object.entries(JSON.parse(config.questions) as Record<string, string>));
  return {
    runId: config.runId,
    model: config.model,
    detail: config.detail,
    convert: config.convert,
    task,
    imagesPerRequest: config.imagesPerRequest,
    limits: (deps.requestLimits ?? defaultRequestLimits)(config.model),
    transport: config.transport,
    ...(questions === undefined
      ? {}
      : {
          questions,
          onlyQuestioned: (task.options as { question?: string }).question === PER_IMAGE_QUESTIONS,
        }),
  };
}

/** Refuses an --images-per-request the task or the model cannot take. */
function checkImagesPerRequest(deps: IngestDeps, request: RunRequest, task: BoundTask): void {
  const n = request.imagesPerRequest ?? 1;
  if (n === 1) return;
  if (task.multiImage !== "batch") {
    throw new UsageError(
      `--images-per-request: --task ${request.task} sends one image per request (only caption and classify take several)`,
    );
  }
  const max = (deps.requestLimits ?? defaultRequestLimits)(request.model).maxImagesPerRequest;
  if (n > max) {
    throw new UsageError(
      `--images-per-request ${n}: ${request.model} takes at most ${max} images per request (TESSERA_MAX_IMAGES_PER_REQUEST)`,
    );
  }
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
  if (request.questions !== undefined && request.task !== "vqa") {
    throw new UsageError(`--questions: only --task vqa asks per-image questions, not ${request.task}`);
  }
  const rawOptions = (request.taskOptions ?? {}) as Record<string, unknown>;
  const perImageOnly = request.questions !== undefined && rawOptions["question"] === undefined;
  const task = bindTask(
    request.task,
    perImageOnly ? { ...rawOptions, question: PER_IMAGE_QUESTIONS } : rawOptions,
    request.model,
  );
  if (task.multiImage === "set" && request.sets === undefined) {
    throw new UsageError(`--task ${request.task} compares sets of images: give them with --sets <file>`);
  }
  if (task.multiImage !== "set" && request.sets !== undefined) {
    throw new UsageError(`--sets: only --task compare takes sets of images, not ${request.task}`);
  }
  checkImagesPerRequest(deps, request, task);
  const taskRequest = task.build(task.multiImage === "set" ? 2 : 1);

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
    imagesPerRequest: request.imagesPerRequest ?? 1,
    ...(request.questions === undefined
      ? {}
      : { questions: JSON.stringify(Object.fromEntries(request.questions)) }),
    ...(request.sets === undefined ? {} : { sets: JSON.stringify(request.sets) }),
    keepFiles: request.keepFiles ?? false,
    cache: request.cache ?? true,
    ...(request.budget?.maxTokens === undefined ? {} : { budgetMaxTokens: request.budget.maxTokens }),
    ...(request.budget?.maxCostUsd === undefined
      ? {}
      : { budgetMaxCostMicros: Math.floor(request.budget.maxCostUsd * 1e6) }),
    ...(request.scheduleId === undefined ? {} : { scheduleId: request.scheduleId }),
  };
  if (request.baselineCandidates !== undefined) {
    const baseRunId = await pickBaseline(deps.runs, request.baselineCandidates, config);
    if (baseRunId !== undefined) config.baseRunId = baseRunId;
  }
  await deps.runs.create(config);
  await request.onCreated?.();
  deps.log.info("run created", { runId: config.runId, source: source.describe(), out: out.describe() });
  return scanAndMark(deps, config, source, excluded, scanPlanOf(deps, config, task), {
    ...request,
    estimate: true,
    fresh: true,
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
  const task = bindTask(run.task, JSON.parse(run.taskOptions) as unknown, run.model);
  return scanAndMark(deps, run, source, excluded, scanPlanOf(deps, run, task), request);
}
