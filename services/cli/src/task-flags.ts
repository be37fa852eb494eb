import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { UsageError, type Task } from "@tessera/core";

/** The per-task flags of `run` and `estimate` (docs/tasks.md lists which task takes which). */
export interface TaskFlags {
  prompt?: string;
  length?: string;
  style?: string;
  language?: string;
  labels?: string;
  multiLabel?: boolean;
  instructions?: string;
  question?: string;
  maxItems?: string;
  thinkingBudget?: string;
  schema?: string;
}

export function addTaskFlags(cmd: Command): Command {
  return cmd
    .option("--prompt <text>", "custom: the instruction (required); other tasks have their own prompt")
    .option("--schema <file>", "custom: a JSON Schema file the answer must follow")
    .option("--length <len>", "caption: short | medium | long")
    .option("--style <style>", "caption: factual | descriptive | alt-text")
    .option("--language <name>", "caption: write captions in this language")
    .option("--labels <a,b,...>", "classify: the label set; detect/segment: only these kinds of item")
    .option("--multi-label", "classify: every label that applies instead of exactly one")
    .option("--instructions <text>", "classify: what the labels are about")
    .option("--question <text>", "vqa: the question asked of every image")
    .option("--max-items <n>", "detect/segment: most objects asked for per image")
    .option("--thinking-budget <n>", "detect/segment: thinking tokens (default 0 where the model allows it)");
}

function integer(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${flag}: expected an integer, got "${text}"`);
  return n;
}

const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);

/**
 * Turns flags into the task's options object; the task's own schema then checks it (bindTask),
 * so a wrong value is reported with the option's name before anything is enqueued. A flag that
 * the task does not take is refused rather than ignored.
 */
export function taskOptionsFromFlags(task: Task, flags: TaskFlags): Record<string, unknown> {
  const given = Object.entries({
    prompt: flags.prompt,
    schema: flags.schema,
    length: flags.length,
    style: flags.style,
    language: flags.language,
    labels: flags.labels,
    multiLabel: flags.multiLabel,
    instructions: flags.instructions,
    question: flags.question,
    maxItems: flags.maxItems,
    thinkingBudget: flags.thinkingBudget,
  }).filter(([, v]) => v !== undefined);
  const accepted: Record<Task, string[]> = {
    caption: ["length", "style", "language"],
    classify: ["labels", "multiLabel", "instructions"],
    vqa: ["question"],
    detect: ["labels", "maxItems", "thinkingBudget"],
    segment: ["labels", "maxItems", "thinkingBudget"],
    compare: ["question"],
    custom: ["prompt", "schema"],
  };
  const stray = given.filter(([name]) => !accepted[task].includes(name)).map(([name]) => name);
  if (stray.length > 0) {
    const flagName = (n: string) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`--task ${task} does not take ${stray.map(flagName).join(", ")}`);
  }
  const options: Record<string, unknown> = {};
  for (const [name] of given) {
    switch (name) {
      case "labels":
        options.labels = list(flags.labels);
        break;
      case "maxItems":
        options.maxItems = integer("--max-items", flags.maxItems);
        break;
      case "thinkingBudget":
        options.thinkingBudget = integer("--thinking-budget", flags.thinkingBudget);
        break;
      case "schema":
        try {
          options.schema = JSON.parse(readFileSync(flags.schema!, "utf8")) as unknown;
        } catch (err) {
          throw new UsageError(`--schema: cannot read JSON from ${flags.schema}: ${(err as Error).message}`);
        }
        break;
      default:
        options[name] = flags[name as keyof TaskFlags];
    }
  }
  return options;
}
