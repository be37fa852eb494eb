/**
 * Every oddity a parser can meet, as a stable code. A run counts them per code (the counters a
 * dashboard shows) and each annotation carries them as readable strings, so a user can see both
 * "how often" and "which images".
 */
export const WARNING_CODES = [
  // Where the JSON was found.
  "empty_answer",
  "not_json",
  "fenced_json",
  "prose_around_json",
  "wrapped_list",
  "single_object_list",
  "truncated",
  // Shapes that do not match what was asked.
  "loose_shape",
  "schema_violation",
  "invalid_item",
  "label_not_in_set",
  "label_normalised",
  // Several images in one request.
  "missing_image_key",
  "extra_image_key",
  "image_key_normalised",
  // Boxes.
  "reversed_corners",
  "clamped_coordinates",
  "zero_size_box",
  "duplicate_box",
  "shared_box",
  // Masks.
  "mask_missing",
  "mask_not_png",
  "mask_without_prefix",
  "mask_bad_base64",
  "mask_undecodable",
  "mask_empty",
  // Retries.
  "strict_retry",
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** How many times each code occurred; absent codes did not occur. */
export type ParseCounters = Partial<Record<WarningCode, number>>;

export interface Problem {
  code: WarningCode;
  message: string;
}

/** "code: message", the form annotations store: greppable by code, readable by people. */
export function formatProblem(problem: Problem): string {
  return `${problem.code}: ${problem.message}`;
}

export function countProblems(problems: readonly Problem[]): ParseCounters {
  const counters: ParseCounters = {};
  for (const p of problems) counters[p.code] = (counters[p.code] ?? 0) + 1;
  return counters;
}

/** Adds counters into `into` (a run's running totals). */
export function addCounters(into: ParseCounters, more: ParseCounters): ParseCounters {
  for (const code of WARNING_CODES) {
    const n = more[code];
    if (n !== undefined) into[code] = (into[code] ?? 0) + n;
  }
  return into;
}
