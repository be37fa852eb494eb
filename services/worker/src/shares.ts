import type { Usage } from "@tessera/core";

/**
 * Splits a whole number into whole parts proportional to `weights` that add up to it exactly
 * (largest remainders; ties go to the earlier part). All-zero weights split evenly.
 */
export function splitProportional(total: number, weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  const sum = weights.reduce((a, b) => a + b, 0);
  const w = sum > 0 ? weights : weights.map(() => 1);
  const wSum = sum > 0 ? sum : weights.length;
  const exact = w.map((x) => (total * x) / wSum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i]! += 1;
    left--;
  }
  return parts;
}

/**
 * Each image's share of a request's bill, so that the shares add up to the bill exactly (the
 * run's totals are sums of its manifest lines). Prompt and image tokens follow each image's own
 * image tokens (the text is shared alike); output and thinking are split evenly.
 */
export function usageShares(usage: Usage, imageTokens: readonly number[]): Usage[] {
  const even = imageTokens.map(() => 1);
  const prompt = splitProportional(usage.promptTokens, imageTokens);
  const image = splitProportional(usage.imageTokens, imageTokens);
  const output = splitProportional(usage.outputTokens, even);
  const thoughts = splitProportional(usage.thoughtsTokens, even);
  const total = splitProportional(
    usage.totalTokens,
    even.map((_, i) => prompt[i]! + output[i]! + thoughts[i]!),
  );
  return imageTokens.map((_, i) => ({
    promptTokens: prompt[i]!,
    imageTokens: image[i]!,
    outputTokens: output[i]!,
    thoughtsTokens: thoughts[i]!,
    totalTokens: total[i]!,
  }));
}
