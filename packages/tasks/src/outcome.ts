import type { ImageOutcome, ModelAnswer, ParseOutcome } from "./contract.ts";
import { extractJson, type JsonPath } from "./json-extract.ts";
import { addCounters, countProblems, formatProblem, type Problem, type WarningCode } from "./warnings.ts";

/** Problems of one image; the answer-level ones are added when the outcome is assembled. */
export type Draft<R> =
  | { ok: true; result: R; partial: boolean; problems: Problem[] }
  | { ok: false; code: WarningCode; error: string; problems: Problem[] };

export function succeed<R>(result: R, problems: Problem[], partial: boolean): Draft<R> {
  return { ok: true, result, partial, problems };
}

/** A failure; its reason joins the image's problems unless the answer already has that problem. */
export function fail<R>(code: WarningCode, error: string, problems: Problem[] = []): Draft<R> {
  return { ok: false, code, error, problems };
}

/** The image's own problems, its failure included unless the answer-level problems name it. */
function ownProblems<R>(draft: Draft<R>, answerProblems: readonly Problem[]): Problem[] {
  if (draft.ok || answerProblems.some((p) => p.code === draft.code)) return draft.problems;
  return [...draft.problems, { code: draft.code, message: draft.error }];
}

/**
 * Assembles the outcome. Each image's warnings and counters include the answer-level problems
 * (so an annotation tells its whole story); `counters` counts them once, for the run.
 */
export function assemble<R>(
  answerProblems: readonly Problem[],
  drafts: readonly Draft<R>[],
): ParseOutcome<R> {
  const own = drafts.map((d) => ownProblems(d, answerProblems));
  const perImage = drafts.map((d, i): ImageOutcome<R> => {
    const problems = [...answerProblems, ...own[i]!];
    const warnings = problems.map(formatProblem);
    const counters = countProblems(problems);
    return d.ok
      ? { ok: true, result: d.result, partial: d.partial, warnings, counters }
      : { ok: false, code: d.code, error: d.error, warnings, counters };
  });
  const counters = countProblems(answerProblems);
  for (const problems of own) addCounters(counters, countProblems(problems));
  return { perImage, warnings: answerProblems.map(formatProblem), counters };
}

/** The same failure for every image of the request (no usable JSON at all). */
export function failAll<R>(
  count: number,
  answerProblems: readonly Problem[],
  code: WarningCode,
  error: string,
): ParseOutcome<R> {
  // The deciding problem is the answer's, so it is counted once, not once per image.
  const problems = answerProblems.some((p) => p.code === code)
    ? [...answerProblems]
    : [...answerProblems, { code, message: error }];
  return assemble<R>(
    problems,
    Array.from({ length: count }, () => fail<R>(code, error)),
  );
}

export interface JsonAnswer {
  value: unknown;
  problems: Problem[];
  /** Where the answer was cut off (see extractJson), undefined when it was not. */
  cutPath: JsonPath | undefined;
  /** The answer is known to be incomplete: cut-off JSON, or finishReason MAX_TOKENS. */
  truncated: boolean;
}

export function readJsonAnswer(
  answer: ModelAnswer,
): { ok: true; json: JsonAnswer } | { ok: false; code: WarningCode; error: string; problems: Problem[] } {
  const extraction = extractJson(answer.text);
  if (!extraction.ok) {
    const code: WarningCode = answer.text.trim() === "" ? "empty_answer" : "not_json";
    return { ok: false, code, error: extraction.error, problems: extraction.problems };
  }
  const problems = [...extraction.problems];
  const maxTokens = answer.finishReason === "MAX_TOKENS";
  if (maxTokens && extraction.cutPath === undefined) {
    problems.push({
      code: "truncated",
      message: "finishReason MAX_TOKENS: the answer may be incomplete",
    });
  }
  return {
    ok: true,
    json: {
      value: extraction.value,
      problems,
      cutPath: extraction.cutPath,
      truncated: maxTokens || extraction.cutPath !== undefined,
    },
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
