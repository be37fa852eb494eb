import type { Command } from "commander";
import { configFrom, openContext, type CommonFlags } from "../context.ts";
import { progressLine, summaryText } from "../progress.ts";

interface StatusFlags extends CommonFlags {
  json?: boolean;
  limit: string;
}

export function registerStatus(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("status")
      .description("show a run's state and counters, or the most recent runs")
      .argument("[runId]", "the run to show; omitted: list recent runs")
      .option("--json", "print machine-readable output")
      .option("--limit <n>", "how many recent runs to list", "20"),
  ).action(async (runId: string | undefined, flags: StatusFlags) => {
    const ctx = await openContext(configFrom(flags), "client");
    try {
      if (runId !== undefined) {
        const run = await ctx.runs.require(runId);
        console.log(
          flags.json ? JSON.stringify(run, null, 2) : summaryText(run, await ctx.runs.recentFailures(runId)),
        );
        return;
      }
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new Error(`--limit: expected a positive integer, got "${flags.limit}"`);
      const ids = await ctx.runs.list(limit);
      const runs = (await Promise.all(ids.map((id) => ctx.runs.get(id)))).filter((r) => r !== undefined);
      if (flags.json) {
        console.log(JSON.stringify(runs, null, 2));
      } else if (runs.length === 0) {
        console.log("no runs yet");
      } else {
        for (const run of runs) console.log(`${run.runId}  ${progressLine(run, 16)}`);
      }
    } finally {
      await ctx.close();
    }
  });
}
