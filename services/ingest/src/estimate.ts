import {
  costMicros,
  modelRequestLimits,
  priceFor,
  UnknownPriceError,
  type ModelPrice,
} from "@tessera/config";
import type { RunConfig, Task } from "@tessera/core";
import type { ScanFigures } from "./scan.ts";

/**
 * Output tokens a task's answer typically takes, for the estimate only (budgets reserve the full
 * maxOutputTokens). Guesses from the prompts and schemas, not measurements.
 */
export const TYPICAL_OUTPUT_TOKENS: Record<Task, number> = {
  caption: 60,
  classify: 10,
  vqa: 40,
  // About 30 tokens per box, ten boxes.
  detect: 300,
  // A base64 probability-map PNG per object is long.
  segment: 2_000,
  compare: 200,
  custom: 200,
};

/**
 * The output cap per request when none is configured: enough for a complete answer, since a cut
 * answer is paid for and partly lost. Segment answers carry a PNG per object.
 */
const DEFAULT_MAX_OUTPUT_TOKENS: Record<Task, number> = {
  caption: 1_024,
  classify: 256,
  vqa: 1_024,
  detect: 4_096,
  segment: 32_768,
  compare: 4_096,
  custom: 8_192,
};

/**
 * The output cap of a run that sets none: the task's, once per image of a request (a batch answer
 * holds one result per image), within the model's output limit.
 */
export function defaultMaxOutputTokens(task: Task, model: string, imagesPerRequest = 1): number {
  return Math.min(
    DEFAULT_MAX_OUTPUT_TOKENS[task] * imagesPerRequest,
    modelRequestLimits(model).maxOutputTokens,
  );
}

export interface Estimate {
  images: number;
  requests: number;
  promptTokens: number;
  /** Per image (its image tokens and its share of its request's text), min / median / max. */
  perImage: { min: number; median: number; max: number } | undefined;
  outputTokens: number;
  /** Undefined when the model has no price. */
  costMicros: number | undefined;
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** The cost of a run from what its scan saw in the headers, before anything is spent. */
export function estimateFromScan(
  config: Pick<RunConfig, "model" | "task" | "maxOutputTokens">,
  scan: Pick<ScanFigures, "imageTokens" | "estimatedPromptTokens" | "requests">,
  prices: Readonly<Record<string, ModelPrice>> | undefined,
): Estimate {
  const sorted = [...scan.imageTokens].sort((a, b) => a - b);
  const images = sorted.length;
  const outputTokens = images * Math.min(TYPICAL_OUTPUT_TOKENS[config.task], config.maxOutputTokens);
  let cost: number | undefined;
  if (prices) {
    try {
      cost = costMicros(priceFor(prices, config.model), scan.estimatedPromptTokens, outputTokens);
    } catch (err) {
      if (!(err instanceof UnknownPriceError)) throw err;
    }
  }
  return {
    images,
    requests: scan.requests,
    promptTokens: scan.estimatedPromptTokens,
    perImage:
      images === 0 ? undefined : { min: sorted[0]!, median: median(sorted), max: sorted[images - 1]! },
    outputTokens,
    costMicros: cost,
  };
}
