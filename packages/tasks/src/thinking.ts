import { z } from "zod";

/**
 * The guide turns thinking off (thinkingBudget 0) for better boxes and masks. Only the 2.5 Flash
 * family accepts 0: 2.5 Pro answers 400 ("This model only works in thinking mode"), and other
 * families spell thinking differently, so they get the model's default unless a budget is given.
 */
export function spatialThinking(
  model: string,
  budget: number | undefined,
): { thinkingBudget: number } | undefined {
  if (budget !== undefined) return { thinkingBudget: budget };
  return /(^|\/)gemini-2\.5-flash/.test(model) ? { thinkingBudget: 0 } : undefined;
}

/** -1 asks for dynamic thinking; 0 turns it off where the model allows. */
export const thinkingBudgetSchema = z.number().int().min(-1).max(32_768).optional();
