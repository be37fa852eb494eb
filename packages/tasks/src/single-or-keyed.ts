import type { ModelAnswer, ParseOutcome } from "./contract.ts";
import { splitKeyed } from "./image-keys.ts";
import { assemble, fail, failAll, readJsonAnswer, type Draft } from "./outcome.ts";
import type { Problem } from "./warnings.ts";

/**
 * Reads one image's value. `cut` says the value was closed by us (the answer ran out of tokens
 * inside it): a reader keeps what is whole and marks the result partial, or fails if nothing is.
 */
export type ValueReader<R> = (value: unknown, cut: boolean, problems: Problem[]) => Draft<R>;

/**
 * The JSON answer of a "batch" task: with one image, the value itself; with several, an object
 * keyed img_1..img_n split back per image, where a missing or malformed key fails its image only.
 */
export function parseSingleOrKeyed<R>(
  answer: ModelAnswer,
  imageCount: number,
  read: ValueReader<R>,
  /** For a single image, what to make of an answer with no JSON in it (e.g. plain prose). */
  readText?: (text: string, problems: Problem[]) => Draft<R>,
): ParseOutcome<R> {
  const read0 = readJsonAnswer(answer);
  if (!read0.ok) {
    if (read0.code === "not_json" && imageCount === 1 && readText !== undefined) {
      const problems: Problem[] = [
        ...read0.problems,
        { code: "loose_shape", message: "plain text instead of JSON; taken as it is" },
      ];
      const truncated = answer.finishReason === "MAX_TOKENS";
      if (truncated)
        problems.push({
          code: "truncated",
          message: "finishReason MAX_TOKENS: the answer may be incomplete",
        });
      return assemble([], [withTruncation(readText(answer.text.trim(), problems), truncated)]);
    }
    return failAll(imageCount, read0.problems, read0.code, read0.error);
  }
  const { json } = read0;
  const answerProblems = [...json.problems];
  if (json.value === undefined) {
    return failAll(
      imageCount,
      answerProblems,
      "truncated",
      "the answer was cut off before any complete value",
    );
  }
  if (imageCount === 1) {
    const draft = read(json.value, json.cutPath !== undefined, []);
    return assemble(answerProblems, [withTruncation(draft, json.truncated)]);
  }
  const { values, problems } = splitKeyed(json, imageCount);
  answerProblems.push(...problems);
  const drafts = values.map((v, i): Draft<R> => {
    if (!v.found) return fail(json.truncated ? "truncated" : "missing_image_key", `img_${i + 1} ${v.why}`);
    return withTruncation(read(v.value, v.cut, []), v.cut);
  });
  return assemble(answerProblems, drafts);
}

function withTruncation<R>(draft: Draft<R>, truncated: boolean): Draft<R> {
  return draft.ok && truncated ? { ...draft, partial: true } : draft;
}
