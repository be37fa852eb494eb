import type { Command } from "commander";
import { retryFailed } from "@tessera/ingest";
import { enqueueFinalize } from "@tessera/queue";
import { configFrom, openContext, type CommonFlags } from "../context.ts";
import { summaryText } from "../progress.ts";
import { waitForRun } from "../wait.ts";

interface LifecycleFlags extends CommonFlags {
  failed?: boolean;
  wait?: boolean;
  json?: boolean;
}

/** `tessera cancel` and `tessera retry`: act on a run that exists, by its id. */
export function registerLifecycle(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("cancel")
      .description(
        "stop sending a run's images; requests in flight settle, the rest are recorded as cancelled",
      )
      .argument("<runId>", "the run to cancel")
      .option("--json", "print machine-readable output"),
  ).action(async (runId: string, flags: LifecycleFlags) => {
    const ctx = await openContext(configFrom({ ...flags, logLevel: flags.logLevel ?? "warn" }), "client");
    try {
      const result = await ctx.runs.cancel(runId);
      if (result === "finalize") {
        await enqueueFinalize(ctx.runs, ctx.producer, runId);
      }
      const message =
        result === "already-ended"
          ? `run ${runId} had already ended; nothing to cancel`
          : `run ${runId} is cancelling: queued images will be recorded as cancelled`;
      console.log(flags.json ? JSON.stringify({ runId, result }) : message);
      if (result === "already-ended") process.exitCode = 1;
    } finally {
      await ctx.close();
    }
  });

  common(
    program
      .command("retry")
      .description(
        "send a finished run's failed images again (done, blocked and skipped ones are left alone)",
      )
      .argument("<runId>", "the run whose failures to retry")
      .requiredOption("--failed", "retry the images whose outcome is failed (required: the only mode today)")
      .option("--wait", "show progress until the run ends again, then print a summary")
      .option("--json", "print machine-readable output"),
  ).action(async (runId: string, flags: LifecycleFlags) => {
    const ctx = await openContext(configFrom({ ...flags, logLevel: flags.logLevel ?? "warn" }), "client");
    try {
      const deps = {
        runs: ctx.runs,
        producer: ctx.producer,
        storage: ctx.storage,
        log: ctx.log,
        now: () => new Date(),
      };
      const { retried } = await retryFailed(deps, runId);
      if (!flags.wait || retried === 0) {
        console.log(
          flags.json
            ? JSON.stringify({ runId, retried })
            : `run ${runId}: ${retried} failed images queued again`,
        );
        return;
      }
      const run = await waitForRun(ctx.runs, runId);
      console.log(flags.json ? JSON.stringify(run) : summaryText(run, await ctx.runs.recentFailures(runId)));
    } finally {
      await ctx.close();
    }
  });
}
