import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "@tessera/core";

/** The flags of `run` and `estimate` that shape requests rather than the task's prompt. */
export interface RequestFlags {
  imagesPerRequest?: string;
  questions?: string;
}

export function addRequestFlags(cmd: Command): Command {
  return cmd
    .option(
      "--images-per-request <n>",
      "caption/classify: send up to n images in one request, each labelled and answered apart (default 1)",
    )
    .option(
      "--questions <file>",
      'vqa: a JSON Lines file of {"key": "<source key>", "question": "..."}: each image\'s own question',
    );
}

export function imagesPerRequestFrom(flags: RequestFlags): number {
  if (flags.imagesPerRequest === undefined) return 1;
  const n = Number(flags.imagesPerRequest);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `--images-per-request: expected a positive integer, got "${flags.imagesPerRequest}"`,
    );
  }
  return n;
}

/**
 * Reads --questions: one JSON object per line, `{"key": ..., "question": ...}`; blank lines are
 * ignored. A bad line is a usage error naming its line number; a key given twice too.
 */
export function questionsFrom(flags: RequestFlags): Map<string, string> | undefined {
  if (flags.questions === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(flags.questions, "utf8");
  } catch (err) {
    throw new UsageError(`--questions: cannot read ${flags.questions}: ${(err as Error).message}`);
  }
  return parseQuestions(text, flags.questions);
}

export function parseQuestions(text: string, name: string): Map<string, string> {
  const questions = new Map<string, string>();
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const where = `--questions ${name} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`${where}: not JSON`);
    }
    const { key, question } = (typeof value === "object" && value !== null ? value : {}) as Record<
      string,
      unknown
    >;
    if (typeof key !== "string" || key === "" || typeof question !== "string" || question.trim() === "") {
      throw new UsageError(`${where}: expected {"key": "<source key>", "question": "<text>"}`);
    }
    if (question.length > 4000) throw new UsageError(`${where}: the question is longer than 4000 characters`);
    if (questions.has(key)) throw new UsageError(`${where}: ${key} already has a question`);
    questions.set(key, question.trim());
  }
  if (questions.size === 0) throw new UsageError(`--questions ${name}: no questions in the file`);
  return questions;
}
