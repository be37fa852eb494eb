import { Option, type Command } from "commander";
import { priceFor, UnknownPriceError } from "@tessera/config";
import { taskSchema, UsageError } from "@tessera/core";
import {
  defaultMaxOutputTokens,
  dryRunSink,
  estimateFromScan,
  PER_IMAGE_QUESTIONS,
  scanSets,
  scanSource,
} from "@tessera/ingest";
import { estimateTextTokens } from "@tessera/imaging/header";
import { isUnder, storageCache } from "@tessera/storage";
import { bindTask, requestTexts } from "@tessera/tasks";
import { addTaskFlags, taskOptionsFromFlags, type TaskFlags } from "../task-flags.ts";
import {
  addRequestFlags,
  imagesPerRequestFrom,
  questionsFrom,
  setsFrom,
  type RequestFlags,
} from "../request-flags.ts";
import { configFrom, type CommonFlags } from "../context.ts";
import { formatDuration, usd } from "../progress.ts";

interface EstimateFlags extends CommonFlags, TaskFlags, RequestFlags {
  task: string;
  model?: string;
  detail: "low" | "standard" | "original";
  convert: "convert" | "skip";
  maxOutputTokens?: string;
  json?: boolean;
  out?: string;
}

/** Minutes the run needs at the fleet's limits: whichever of RPM, TPM and RPD binds hardest. */
export function durationAtLimits(
  requests: number,
  promptTokens: number,
  limits: { rpm?: number; tpm?: number; rpd?: number },
): { ms: number; bound: "rpm" | "tpm" | "rpd" | "none" } {
  const candidates: { ms: number; bound: "rpm" | "tpm" | "rpd" }[] = [];
  if (limits.rpm) candidates.push({ ms: (requests / limits.rpm) * 60_000, bound: "rpm" });
  if (limits.tpm) candidates.push({ ms: (promptTokens / limits.tpm) * 60_000, bound: "tpm" });
  if (limits.rpd && requests > limits.rpd)
    candidates.push({ ms: (requests / limits.rpd) * 86_400_000, bound: "rpd" });
  if (candidates.length === 0) return { ms: 0, bound: "none" };
  return candidates.reduce((a, b) => (b.ms > a.ms ? b : a));
}

export function registerEstimate(program: Command, _common: (cmd: Command) => Command): void {
  addRequestFlags(
    addTaskFlags(
      program
        .command("estimate")
        .description("what a run would cost, from image headers only: nothing is downloaded, queued or sent")
        .argument("<source>", "where the images are: s3://bucket/prefix or file:///absolute/dir")
        .option("--task <task>", `what to ask for (${taskSchema.options.join(", ")})`, "caption")
        .option("--model <model>", "Gemini model (default: GEMINI_MODEL or gemini-2.5-flash)")
        .addOption(
          new Option("--detail <level>", "as for `run`")
            .choices(["low", "standard", "original"])
            .default("standard"),
        )
        .addOption(
          new Option("--convert <policy>", "as for `run`").choices(["convert", "skip"]).default("convert"),
        )
        .option(
          "--max-output-tokens <n>",
          "output cap per request (default: TESSERA_MAX_OUTPUT_TOKENS, else per task: caption 1024, segment 32768..., times --images-per-request)",
        )
        .option(
          "--out <uri>",
          "the run's output location: left out of the estimate when it lies inside the source",
        )
        .option("--s3-endpoint <url>", "S3-compatible endpoint (env S3_ENDPOINT)")
        .option("--json", "print machine-readable output"),
    ),
  ).action(async (sourceUri: string, flags: EstimateFlags) => {
    const task = taskSchema.safeParse(flags.task);
    if (!task.success)
      throw new UsageError(`--task: unknown task "${flags.task}" (known: ${taskSchema.options.join(", ")})`);
    const config = configFrom(flags, {
      GEMINI_MODEL: flags.model,
      TESSERA_MAX_OUTPUT_TOKENS: flags.maxOutputTokens,
    });
    const model = config.env.GEMINI_MODEL;
    const questions = questionsFrom(flags);
    const taskOptions = taskOptionsFromFlags(task.data, flags);
    const perImageOnly = questions !== undefined && taskOptions["question"] === undefined;
    const bound = bindTask(
      task.data,
      perImageOnly ? { ...taskOptions, question: PER_IMAGE_QUESTIONS } : taskOptions,
      model,
    );
    const requestLimits = config.requestLimits(model);
    const imagesPerRequest = imagesPerRequestFrom(flags);
    if (imagesPerRequest > 1 && bound.multiImage !== "batch") {
      throw new UsageError(`--images-per-request: --task ${task.data} sends one image per request`);
    }
    const perRequest = Math.min(imagesPerRequest, requestLimits.maxImagesPerRequest);
    // The text of a full request (with several images, its labels too); a set's, for two images.
    const texts = requestTexts(bound.build(bound.multiImage === "set" ? 2 : perRequest));
    const storages = storageCache(config.s3, config.urls);
    const source = storages(sourceUri);
    await source.checkAccess();
    const excluded =
      flags.out === undefined ? undefined : isUnder(source.location, storages(flags.out).location);
    const tty = process.stderr.isTTY && !flags.json;
    const plan = {
      runId: "estimate",
      model,
      task: bound,
      detail: flags.detail,
      convert: flags.convert,
      imagesPerRequest: perRequest,
      limits: requestLimits,
      transport: "auto" as const,
      ...(questions === undefined ? {} : { questions, onlyQuestioned: perImageOnly }),
    };
    const sets = setsFrom(flags, requestLimits.maxImagesPerRequest);
    if ((bound.multiImage === "set") !== (sets !== undefined)) {
      throw new UsageError("--sets goes with --task compare, and compare needs --sets <file>");
    }
    const probeConcurrency = config.env.TESSERA_PROBE_CONCURRENCY;
    const scan =
      sets !== undefined
        ? await scanSets(dryRunSink, plan, sets, source, () => new Date(), { probeConcurrency })
        : await scanSource(dryRunSink, plan, source, () => new Date(), {
            probeConcurrency,
            ...(excluded ? { excludedPrefix: excluded } : {}),
            onProgress: (p) => {
              if (tty)
                process.stderr.write(
                  `\r\x1b[2Kscanning ${source.describe()}: ${p.listed} objects, ${p.images} images`,
                );
            },
          });
    if (tty) process.stderr.write("\r\x1b[2K");
    const runConfig = {
      model,
      task: task.data,
      maxOutputTokens:
        config.env.TESSERA_MAX_OUTPUT_TOKENS ?? defaultMaxOutputTokens(task.data, model, imagesPerRequest),
    };
    const estimate = estimateFromScan(runConfig, scan, config.prices);
    const limits = config.rateLimits(model);
    const duration = durationAtLimits(estimate.requests, estimate.promptTokens, limits);
    let price;
    try {
      price = priceFor(config.prices, model);
    } catch (err) {
      if (!(err instanceof UnknownPriceError)) throw err;
    }
    const broken = Object.values(scan.brokenReasons).reduce((a, b) => a + b, 0);
    const report = {
      source: source.describe(),
      model,
      task: task.data,
      detail: flags.detail,
      objects: scan.listed,
      images: scan.images,
      imagesByFormat: scan.formats,
      failingAtHeader: scan.brokenReasons,
      skipped: scan.skipped,
      skippedByReason: scan.skipReasons,
      requests: estimate.requests,
      promptTokens: estimate.promptTokens,
      promptTextTokensPerRequest: texts.reduce((sum, t) => sum + estimateTextTokens(t), 0),
      perImage: estimate.perImage ?? null,
      outputTokens: estimate.outputTokens,
      costUsd: estimate.costMicros === undefined ? null : estimate.costMicros / 1e6,
      price: price ?? null,
      imagesPerRequest,
      maxImagesPerRequest: requestLimits.maxImagesPerRequest,
      rateLimits: limits,
      durationMs: Math.round(duration.ms),
      boundBy: duration.bound,
    };
    if (flags.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    const byFormat = Object.entries(scan.formats)
      .sort((a, b) => b[1] - a[1])
      .map(([f, n]) => `${f} ${n}`)
      .join(", ");
    const lines = [
      `source    ${report.source}: ${scan.listed} objects, ${scan.images} images${byFormat ? ` (${byFormat})` : ""}`,
      ...Object.entries(scan.skipReasons).map(([reason, n]) => `skipped   ${n} x ${reason}`),
      ...(broken
        ? Object.entries(scan.brokenReasons).map(([reason, n]) => `will fail ${n} x ${reason}`)
        : []),
      `model     ${model}, task ${task.data}, detail ${flags.detail}`,
      `requests  ${estimate.requests} (${imagesPerRequest === 1 ? "one image each" : `up to ${imagesPerRequest} images each`})`,
      `input     ${estimate.promptTokens} tokens` +
        (estimate.perImage
          ? ` (per ${perRequest === 1 ? "request" : "image"} min ${estimate.perImage.min} / median ${estimate.perImage.median} / max ${estimate.perImage.max}, ${report.promptTextTokensPerRequest} prompt text per ${perRequest === 1 ? "request" : `full request of ${perRequest}`})`
          : ""),
      `output    ~${estimate.outputTokens} tokens (typical answer; each request is capped at ${runConfig.maxOutputTokens})`,
      `cost      ${estimate.costMicros === undefined ? `unknown (no price for ${model}: set TESSERA_PRICES)` : `~${usd(estimate.costMicros)}`}` +
        (price ? ` at $${price.input}/M input, $${price.output}/M output` : ""),
      `time      ${duration.bound === "none" ? "no rate limit configured" : `at least ${formatDuration(duration.ms)} (bound by ${duration.bound.toUpperCase()} of ${config.env.GEMINI_TIER}: ${[limits.rpm && `${limits.rpm} RPM`, limits.tpm && `${limits.tpm} TPM`, limits.rpd && `${limits.rpd} RPD`].filter(Boolean).join(", ")})`}`,
    ];
    console.log(lines.join("\n"));
  });
}
