import type { TaskRequest } from "./contract.ts";

/** Appended when a JSON answer could not be read: the schema is already enforced, so say it plainly. */
export const STRICT_JSON_INSTRUCTION =
  "Answer with JSON only, exactly matching the response schema: no prose, no code fences, every required key present, and only values these instructions allow.";

/** With several images the keyed object is what goes missing: name the keys. */
export const STRICT_KEYS_INSTRUCTION = "Give every image label above its own key.";

/** Appended when a plain-text answer could not be used (it came back empty). */
export const STRICT_TEXT_INSTRUCTION =
  "Answer in plain text only: no JSON, no code fences, no commentary, and never an empty answer.";

/**
 * The same request with a stricter instruction appended to its prompt (and so to its last text
 * part), for the one retry of an answer that could not be read. The options, the schema and the
 * generation config are untouched: the config hash, and so the cache and comparisons, stay the
 * same; the annotation says it was answered on a stricter retry.
 */
export function stricterRequest(request: TaskRequest): TaskRequest {
  const json = request.generationConfig.responseMimeType === "application/json";
  const images = request.parts.filter((part) => part.kind === "image").length;
  const extra = json
    ? images > 1
      ? `${STRICT_JSON_INSTRUCTION} ${STRICT_KEYS_INSTRUCTION}`
      : STRICT_JSON_INSTRUCTION
    : STRICT_TEXT_INSTRUCTION;
  const prompt = `${request.prompt}\n${extra}`;
  const last = request.parts.at(-1);
  // The prompt is the last text part (layoutParts); anything else gets the instruction after it.
  const parts =
    last?.kind === "text" && last.text === request.prompt
      ? [...request.parts.slice(0, -1), { kind: "text" as const, text: prompt }]
      : [...request.parts, { kind: "text" as const, text: extra }];
  return { ...request, prompt, parts };
}
