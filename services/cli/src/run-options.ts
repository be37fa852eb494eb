import { Option, type Command } from "commander";
import type { Config } from "@tessera/config";
import { taskSchema, UsageError, type Task } from "@tessera/core";
import { defaultMaxOutputTokens, type ScheduledRequest } from "@tessera/ingest";
import { addImagesPerRequestFlag, imagesPerRequestFrom } from "./request-flags.ts";
import { addTaskFlags, taskOptionsFromFlags, type TaskFlags } from "./task-flags.ts";

/** The flags that say what a run does, shared by `run` and `schedule add`. */
export interface RunOptionFlags extends TaskFlags {
  task: string;
  model?: string;
  maxTokens?: string;
  maxCost?: string;
  maxOutputTokens?: string;
  detail: "low" | "standard" | "original";
  convert: "convert" | "skip";
  transport: "auto" | "inline" | "files" | "url";
  imagesPerRequest?: string;
}

export function positiveNumber(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag}: expected a positive ${integer ? "integer" : "number"}, got "${text}"`);
  }
  return value;
}

export function addRunOptions(cmd: Command): Command {
  return addTaskFlags(
    addImagesPerRequestFlag(cmd)
      .option("--task <task>", `what to ask for (${taskSchema.options.join(", ")})`, "caption")
      .option("--model <model>", "Gemini model (default: GEMINI_MODEL or gemini-2.5-flash)")
      .option("--max-tokens <n>", "budget: never spend more input + output tokens than this on the run")
      .option(
        "--max-cost <usd>",
        "budget: never spend more than this many US dollars (prices: TESSERA_PRICES)",
      )
      .option(
        "--max-output-tokens <n>",
        "output cap per request (default: TESSERA_MAX_OUTPUT_TOKENS, else per task: caption 1024, segment 32768..., times --images-per-request)",
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
          "how images reach Gemini: inline, files (Files API, uploaded once per content), url (pre-signed S3 URL of unchanged originals), auto (inline unless too big or sent by several requests)",
        )
          .choices(["auto", "inline", "files", "url"])
          .default("auto"),
      ),
  );
}

export function parseTask(text: string): Task {
  const task = taskSchema.safeParse(text);
  if (!task.success)
    throw new UsageError(`--task: unknown task "${text}" (known: ${taskSchema.options.join(", ")})`);
  return task.data;
}

/** Config overrides these flags imply (load the config with them before `runOptionsFrom`). */
export function runOptionEnv(flags: RunOptionFlags) {
  return { GEMINI_MODEL: flags.model, TESSERA_MAX_OUTPUT_TOKENS: flags.maxOutputTokens };
}

/** What a run is asked to do, from the flags and the configuration they were loaded into. */
export function runOptionsFrom(flags: RunOptionFlags, config: Config): ScheduledRequest {
  const task = parseTask(flags.task);
  const maxTokens = positiveNumber("--max-tokens", flags.maxTokens, true);
  const maxCostUsd = positiveNumber("--max-cost", flags.maxCost, false);
  const imagesPerRequest = imagesPerRequestFrom(flags);
  return {
    task,
    taskOptions: taskOptionsFromFlags(task, flags),
    model: config.env.GEMINI_MODEL,
    maxOutputTokens:
      config.env.TESSERA_MAX_OUTPUT_TOKENS ??
      defaultMaxOutputTokens(task, config.env.GEMINI_MODEL, imagesPerRequest),
    imagesPerRequest,
    detail: flags.detail,
    convert: flags.convert,
    transport: flags.transport,
    budget: {
      ...(maxTokens === undefined ? {} : { maxTokens }),
      ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
    },
  };
}
