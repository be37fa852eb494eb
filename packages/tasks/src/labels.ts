import { z } from "zod";

/** Case, spacing, underscores and stray quotes are how a model's label drifts from the list. */
export function normaliseLabel(label: string): string {
  return label
    .trim()
    .replace(/^["'`]+|["'`.]+$/g, "")
    .toLowerCase()
    .replace(/[\s_-]+/g, " ")
    .trim();
}

/**
 * A user's label list: trimmed, non-empty, and distinct even after normalising (otherwise a
 * drifted answer could not be matched back to one label).
 */
export function labelListSchema(min: number) {
  return z
    .array(z.string().trim().min(1).max(200))
    .min(min)
    .max(1000)
    .superRefine((labels, ctx) => {
      const seen = new Map<string, string>();
      for (const label of labels) {
        const key = normaliseLabel(label);
        const earlier = seen.get(key);
        if (earlier !== undefined) {
          ctx.addIssue({ code: "custom", message: `labels "${earlier}" and "${label}" are the same label` });
        }
        seen.set(key, label);
      }
    });
}

export type LabelMatch = { label: string; exact: boolean } | undefined;

/** The allowed label `raw` stands for: exactly, or after normalising; undefined if none. */
export function matchLabel(raw: string, allowed: readonly string[]): LabelMatch {
  if (allowed.includes(raw)) return { label: raw, exact: true };
  const key = normaliseLabel(raw);
  const found = allowed.find((a) => normaliseLabel(a) === key);
  return found === undefined ? undefined : { label: found, exact: false };
}

/** Labels quoted for a prompt: "cat", "dog", "traffic light". */
export function quoteLabels(labels: readonly string[]): string {
  return labels.map((l) => JSON.stringify(l)).join(", ");
}
