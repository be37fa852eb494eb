import { Option, type Command } from "commander";
import { taskSchema, UsageError } from "@tessera/core";
import { DEFAULT_MAX_OUTPUT_TOKENS, resumeRun, startRun } from "@tessera/ingest";
import { addTaskFlags, taskOptionsFromFlags, type TaskFlags } from "../task-flags.ts";
import { configFrom, openContext, type CommonFlags } from "../context.ts";
import { summaryText } from "../progress.ts";
import { waitForRun } from "../wait.ts";

interface RunFlags extends CommonFlags, TaskFlags {
  task: string;
  out?: string;
  resume?: string;
  model?: string;
  wait?: boolean;
  json?: boolean;
  maxTokens?: string;
  maxCost?: string;
  maxOutputTokens?: string;
  detail: "low" | "standard" | "original";
  convert: "convert" | "skip";
  transport: "auto" | "inline" | "files" | "url";
  keepFiles?: boolean;
  cache: boolean;
}

function positiveNumber(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag}: expected a positive ${integer ? "integer" : "number"}, got "${text}"`);
  }
  return value;
}

export function registerRun(program: Command, common: (cmd: Command) => Command): void {
  common(
    addTaskFlags(
      program
        .command("run")
        .description("annotate every image under a location (s3://bucket/prefix or file:///dir)")
        .argument("[source]", "where the images are: s3://bucket/prefix or file:///absolute/dir")
        .option("--out <uri>", "where annotations go: s3://bucket/prefix or file:///absolute/dir")
        .option(
          "--resume <runId>",
          "continue a run whose scan did not finish (same source, output and options)",
        )
        .option("--task <task>", `what to ask for (${taskSchema.options.join(", ")})`, "caption")
        .option("--model <model>", "Gemini model (default: GEMINI_MODEL or gemini-2.5-flash)")
        .option("--max-tokens <n>", "budget: never spend more input + output tokens than this on the run")
        .option(
          "--max-cost <usd>",
          "budget: never spend more than this many US dollars (prices: TESSERA_PRICES)",
        )
        .option(
          "--max-output-tokens <n>",
          "output cap per request (default: TESSERA_MAX_OUTPUT_TOKENS, else per task: caption 1024, segment 32768...)",
        )
        .addOption(
          new Option(
            "--detail <level>",
            "how much of each image to send: low fits 384x384 (258 tokens on 2.x), standard caps the long side at 1024 px (same tokens, fewer bytes), original as is",
          )
            .choices(["low", "standard", "original"])
            .default("standard"),
        )
        .addOption(
          new Option(
            "--convert <policy>",
            "formats Gemini does not take (GIF, BMP, TIFF, AVIF): convert to PNG/JPEG or skip",
          )
            .choices(["convert", "skip"])
            .default("convert"),
        )
        .addOption(
          new Option(
            "--transport <how>",
            "how images reach Gemini: inline, files (Files API, uploaded once per content), url (pre-signed S3 URL of unchanged originals), auto (inline unless too big)",
          )
            .choices(["auto", "inline", "files", "url"])
            .default("auto"),
        )
        .option("--keep-files", "keep the run's Files API uploads when it ends (they expire after 48 h)")
        .option(
          "--no-cache",
          "pay again for images an earlier run under the same --out already annotated with the same settings (results still refresh the cache)",
        )
        .option("--wait", "show progress until the run ends, then print a summary")
        .option("--json", "print machine-readable output"),
    ),
  ).action(async (source: string | undefined, flags: RunFlags) => {
    if (flags.resume !== undefined && (source !== undefined || flags.out !== undefined)) {
      throw new UsageError(
        "--resume takes the run's own source and output: give no <source> or --out with it",
      );
    }
    if (flags.resume === undefined && source === undefined) throw new UsageError("missing argument <source>");
    if (flags.resume === undefined && flags.out === undefined)
      throw new UsageError("missing option --out <uri>");
    const task = taskSchema.safeParse(flags.task);
    if (!task.success)
      throw new UsageError(`--task: unknown task "${flags.task}" (known: ${taskSchema.options.join(", ")})`);
    // Progress and the summary say what matters here; routine log lines only on request.
    const logLevel = flags.logLevel ?? (process.env.LOG_LEVEL || "warn");
    const maxTokens = positiveNumber("--max-tokens", flags.maxTokens, true);
    const maxCostUsd = positiveNumber("--max-cost", flags.maxCost, false);
    const config = configFrom(
      { ...flags, logLevel },
      { GEMINI_MODEL: flags.model, TESSERA_MAX_OUTPUT_TOKENS: flags.maxOutputTokens },
    );
    const ctx = await openContext(config, "client");
    try {
      const deps = {
        runs: ctx.runs,
        producer: ctx.producer,
        storage: ctx.storage,
        log: ctx.log,
        now: () => new Date(),
      };
      const started =
        flags.resume !== undefined
          ? await resumeRun(deps, flags.resume)
          : await startRun(deps, {
              source: source!,
              out: flags.out!,
              task: task.data,
              model: config.env.GEMINI_MODEL,
              maxOutputTokens: config.env.TESSERA_MAX_OUTPUT_TOKENS ?? DEFAULT_MAX_OUTPUT_TOKENS[task.data],
              detail: flags.detail,
              convert: flags.convert,
              transport: flags.transport,
              keepFiles: flags.keepFiles === true,
              cache: flags.cache,
              prices: config.prices,
              budget: {
                ...(maxTokens === undefined ? {} : { maxTokens }),
                ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
              },
              taskOptions: taskOptionsFromFlags(task.data, flags),
            });
      if (!flags.wait) {
        console.log(flags.json ? JSON.stringify(started) : started.runId);
        return;
      }
      if (!flags.json)
        console.error(`run ${started.runId}: ${started.images} images queued, ${started.skipped} skipped`);
      // Ctrl-C stops watching, not the run: the workers carry on.
      const interrupted = new AbortController();
      const onInterrupt = () => interrupted.abort();
      process.once("SIGINT", onInterrupt);
      let run;
      try {
        run = await waitForRun(ctx.runs, started.runId, {
          signal: interrupted.signal,
          ...(flags.json ? { stream: devNull() } : {}),
        });
      } catch (err) {
        if (!interrupted.signal.aborted) throw err;
        console.error(`\nstopped watching; run ${started.runId} goes on (tessera status ${started.runId})`);
        process.exitCode = 130;
        return;
      } finally {
        process.off("SIGINT", onInterrupt);
      }
      console.log(
        flags.json ? JSON.stringify(run) : summaryText(run, await ctx.runs.recentFailures(run.runId)),
      );
      // A run that stopped at its budget did what it was told.
      if (run.status !== "completed" && run.status !== "budget_exhausted") process.exitCode = 1;
    } finally {
      await ctx.close();
    }
  });
}

function devNull(): NodeJS.WriteStream {
  return { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
}
