import { z } from "zod";

/** US dollars per million tokens, input and output priced apart. */
export interface ModelPrice {
  input: number;
  output: number;
}

/**
 * Gemini API list prices (paid tier, prompts up to 200k tokens, standard not batch) as published
 * in 2025. Google changes them: override with TESSERA_PRICES. Longest matching prefix wins.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  "gemini-2.5-pro": { input: 1.25, output: 10 },
  "gemini-2.5-flash-lite": { input: 0.1, output: 0.4 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5 },
  "gemini-2.0-flash-lite": { input: 0.075, output: 0.3 },
  "gemini-2.0-flash": { input: 0.1, output: 0.4 },
  "gemini-1.5-pro": { input: 1.25, output: 5 },
  "gemini-1.5-flash": { input: 0.075, output: 0.3 },
  "gemini-3-pro": { input: 2, output: 12 },
};

export const pricesSchema = z.record(
  z.string().min(1),
  z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }),
);

export class UnknownPriceError extends Error {
  constructor(model: string) {
    super(
      `no price for model "${model}": add it to TESSERA_PRICES, e.g. {"${model}": {"input": 0.3, "output": 2.5}}`,
    );
    this.name = "UnknownPriceError";
  }
}

export function priceFor(prices: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice {
  const name = model.replace(/^models\//, "");
  const match = Object.keys(prices)
    .filter((prefix) => name.startsWith(prefix))
    .sort((a, b) => b.length - a.length)[0];
  if (match === undefined) throw new UnknownPriceError(model);
  return prices[match]!;
}

/** Cost in micro-dollars (integers add up exactly in Redis), rounded up. */
export function costMicros(price: ModelPrice, inputTokens: number, outputTokens: number): number {
  return Math.ceil(price.input * inputTokens + price.output * outputTokens);
}
