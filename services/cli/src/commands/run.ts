import type { Command } from "commander";
import { UsageError } from "@tessera/core";
import { resumeRun, startRun } from "@tessera/ingest";
import {
  addRunOptions,
  parseTask,
  runOptionEnv,
  runOptionsFrom,
  type RunOptionFlags,
} from "../run-options.ts";
import { addInputFileFlags, questionsFrom, setsFrom, type InputFileFlags } from "../request-flags.ts";
import { configFrom, openContext, type CommonFlags } from "../context.ts";
import { summaryText } from "../progress.ts";
import { waitForRun } from "../wait.ts";

interface RunFlags extends CommonFlags, RunOptionFlags, InputFileFlags {
  out?: string;
  resume?: string;
  wait?: boolean;
  json?: boolean;
  keepFiles?: boolean;
  cache: boolean;
}

export function registerRun(program: Command, common: (cmd: Command) => Command): void {
  common(
    addInputFileFlags(
      addRunOptions(
        program
          .command("run")
          .description("annotate every image under a location (s3://bucket/prefix or file:///dir)")
          .argument("[source]", "where the images are: s3://bucket/prefix or file:///absolute/dir")
          .option("--out <uri>", "where annotations go: s3://bucket/prefix or file:///absolute/dir")
          .option(
            "--resume <runId>",
            "continue a run whose scan did not finish (same source, output and options)",
          )
          .option("--keep-files", "keep the run's Files API uploads when it ends (they expire after 48 h)")
          .option(
            "--no-cache",
            "pay again for images an earlier run under the same --out already annotated with the same settings (results still refresh the cache)",
          )
          .option("--wait", "show progress until the run ends, then print a summary")
          .option("--json", "print machine-readable output"),
      ),
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
    parseTask(flags.task);
    // Progress and the summary say what matters here; routine log lines only on request.
    const logLevel = flags.logLevel ?? (process.env.LOG_LEVEL || "warn");
    const config = configFrom({ ...flags, logLevel }, runOptionEnv(flags));
    const options = runOptionsFrom(flags, config);
    const ctx = await openContext(config, "client");
    try {
      const deps = {
        runs: ctx.runs,
        producer: ctx.producer,
        storage: ctx.storage,
        log: ctx.log,
        now: () => new Date(),
        requestLimits: config.requestLimits,
        probeConcurrency: config.env.TESSERA_PROBE_CONCURRENCY,
      };
      const questions = questionsFrom(flags);
      const sets = setsFrom(flags, config.requestLimits(config.env.GEMINI_MODEL).maxImagesPerRequest);
      const started =
        flags.resume !== undefined
          ? await resumeRun(deps, flags.resume)
          : await startRun(deps, {
              ...options,
              source: source!,
              out: flags.out!,
              keepFiles: flags.keepFiles === true,
              cache: flags.cache,
              prices: config.prices,
              ...(questions === undefined ? {} : { questions }),
              ...(sets === undefined ? {} : { sets }),
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
