import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "@tessera/core";
import { parseSets, readJsonLines, type ImageSet } from "@tessera/ingest";

/** Files that name the images of a run (compare sets) or their questions (vqa): `run` and `estimate`. */
export interface InputFileFlags {
  questions?: string;
  sets?: string;
}

/** The flags of `run` and `estimate` that shape requests rather than the task's prompt. */
export interface RequestFlags extends InputFileFlags {
  imagesPerRequest?: string;
}

/** Shared by `run`, `schedule add` (through the run options) and `estimate`. */
export function addImagesPerRequestFlag(cmd: Command): Command {
  return cmd.option(
    "--images-per-request <n>",
    "caption/classify: send up to n images in one request, each labelled and answered apart (default 1)",
  );
}

export function addRequestFlags(cmd: Command): Command {
  return addInputFileFlags(addImagesPerRequestFlag(cmd));
}

export function addInputFileFlags(cmd: Command): Command {
  return cmd
    .option(
      "--sets <file>",
      'compare: a JSON Lines file, one set per line: ["key1", "key2", ...] or {"id": "...", "keys": [...]}',
    )
    .option(
      "--questions <file>",
      'vqa: a JSON Lines file of {"key": "<source key>", "question": "..."}: each image\'s own question',
    );
}

function readFlagFile(flag: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Reads --sets (see parseSets); a set may hold at most the model's images per request. */
export function setsFrom(flags: InputFileFlags, maxImages: number): ImageSet[] | undefined {
  if (flags.sets === undefined) return undefined;
  return parseSets(readFlagFile("--sets", flags.sets), flags.sets, maxImages);
}

export function imagesPerRequestFrom(flags: Pick<RequestFlags, "imagesPerRequest">): number {
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
export function questionsFrom(flags: InputFileFlags): Map<string, string> | undefined {
  if (flags.questions === undefined) return undefined;
  return parseQuestions(readFlagFile("--questions", flags.questions), flags.questions);
}

export function parseQuestions(text: string, name: string): Map<string, string> {
  const questions = new Map<string, string>();
  for (const { value, where } of readJsonLines(text, `--questions ${name}`)) {
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
