import { Option, type Command } from "commander";
import { UsageError } from "@tessera/core";
import { parseLocation } from "@tessera/storage";
import { buildExport, readAnnotations, type ExportFormat } from "@tessera/worker";
import { configFrom, openContext, type CommonFlags } from "../context.ts";

interface ExportFlags extends CommonFlags {
  format: ExportFormat;
  out?: string;
}

/** "s3://bucket/dir/file.json" -> the folder's location and the file's key. */
function splitObjectUri(uri: string): { folder: string; key: string } {
  const cut = uri.lastIndexOf("/");
  const key = uri.slice(cut + 1);
  const folder = uri.slice(0, cut);
  if (key === "" || folder.endsWith(":/") || folder.endsWith(":")) {
    throw new UsageError(
      `--out: expected the URI of a file, e.g. s3://bucket/exports/run.json, got "${uri}"`,
    );
  }
  parseLocation(folder);
  return { folder, key };
}

export function registerExport(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("export")
      .description(
        "rebuild a finished run's export from its stored annotations (COCO for detect and segment)",
      )
      .argument("<runId>", "the run to export")
      .addOption(
        new Option("--format <format>", "coco | jsonl | csv")
          .choices(["coco", "jsonl", "csv"])
          .makeOptionMandatory(),
      )
      .option(
        "--out <uri>",
        "file to write (s3://bucket/key or file:///path); default <run output>/<runId>/export.<format>",
      ),
  ).action(async (runId: string, flags: ExportFlags) => {
    const ctx = await openContext(configFrom({ ...flags, logLevel: flags.logLevel ?? "warn" }), "client");
    try {
      const run = await ctx.runs.require(runId);
      if (!["completed", "budget_exhausted", "cancelled"].includes(run.status)) {
        throw new UsageError(`run ${runId} is ${run.status}: export a run once it has finished`);
      }
      if (flags.format === "coco" && run.task !== "detect" && run.task !== "segment") {
        throw new UsageError(`--format coco needs a detect or segment run; run ${runId} is ${run.task}`);
      }
      const out = ctx.storage(run.out);
      const exported = buildExport(run, await readAnnotations(out, runId), flags.format);
      const extension = flags.format === "coco" ? "coco.json" : flags.format;
      const target =
        flags.out === undefined
          ? { folder: run.out, key: `${runId}/export.${extension}` }
          : splitObjectUri(flags.out);
      await ctx.storage(target.folder).put(target.key, exported.body, { contentType: exported.contentType });
      console.log(`${ctx.storage(target.folder).describe(target.key)}`);
      if (exported.skippedObjects)
        console.error(`${exported.skippedObjects} objects without a usable mask were left out`);
    } finally {
      await ctx.close();
    }
  });
}
