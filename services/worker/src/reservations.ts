import { costMicros, priceFor, UnknownPriceError, type ModelPrice } from "@tessera/config";
import { TesseraError } from "@tessera/core";
import { RequestTooLargeError, type Reservation, type RunState } from "@tessera/queue";
import type { Usage } from "@tessera/core";
import type { WorkerDeps } from "./deps.ts";

/**
 * What one request holds before it is sent: its share of the run's budget (input estimate plus
 * the output cap, the most it can cost) and of the fleet's rate limits. Released if the call is
 * not made or fails, settled to the billed usage when it succeeds.
 */
export class Hold {
  readonly #deps: WorkerDeps;
  readonly #run: RunState;
  readonly #budget: { tokens: number; costMicros: number };
  readonly #price: ModelPrice | undefined;
  #rate: Reservation | undefined;
  #open = true;

  private constructor(
    deps: WorkerDeps,
    run: RunState,
    budget: { tokens: number; costMicros: number },
    price: ModelPrice | undefined,
  ) {
    this.#deps = deps;
    this.#run = run;
    this.#budget = budget;
    this.#price = price;
  }

  /** The budget's share for one request; undefined when the budget cannot cover it (a budget skip). */
  static async take(deps: WorkerDeps, run: RunState, inputTokens: number): Promise<Hold | undefined> {
    const price = priceOrUndefined(deps, run.model);
    const budget = {
      tokens: inputTokens + run.maxOutputTokens,
      costMicros: price ? costMicros(price, inputTokens, run.maxOutputTokens) : 0,
    };
    if (!(await deps.runs.reserveBudget(run.runId, budget.tokens, budget.costMicros))) return undefined;
    return new Hold(deps, run, budget, price);
  }

  /**
   * Takes the request's share of the fleet's rate limits. Called right before the request leaves,
   * after the download and resizing, so that Gemini sees requests arrive when the limiter let
   * them through. Throws rate_limited (with the wait) when the fleet is at its limits.
   */
  async admit(inputTokens: number): Promise<void> {
    if (this.#rate) return;
    this.#rate = await takeRate(this.#deps, this.#run.model, inputTokens);
  }

  get budgetTokens(): number {
    return this.#budget.tokens;
  }

  /** Nothing was billed: give everything back (the RPM slot stays used, as Gemini counts it). */
  async release(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#deps.runs.settleBudget(this.#run.runId, this.#budget, { tokens: 0, costMicros: 0 });
    if (this.#rate) await this.#deps.limiter?.settle(this.#rate, 0);
  }

  /** The call succeeded: replace the estimates with what Gemini billed. Returns the cost. */
  async settle(usage: Usage): Promise<number> {
    const output = usage.outputTokens + usage.thoughtsTokens;
    const cost = this.#price ? costMicros(this.#price, usage.promptTokens, output) : 0;
    if (!this.#open) return cost;
    this.#open = false;
    await this.#deps.runs.settleBudget(this.#run.runId, this.#budget, {
      tokens: usage.promptTokens + output,
      costMicros: cost,
    });
    if (this.#rate) await this.#deps.limiter?.settle(this.#rate, usage.promptTokens);
    return cost;
  }
}

async function takeRate(deps: WorkerDeps, model: string, tokens: number): Promise<Reservation | undefined> {
  if (!deps.limiter) return undefined;
  try {
    const slot = await deps.limiter.acquire(model, tokens);
    if (slot.ok) return slot.reservation;
    throw new TesseraError("rate_limited", `fleet ${slot.metric.toUpperCase()} limit reached`, {
      retryDelayMs: slot.waitMs,
    });
  } catch (err) {
    if (err instanceof RequestTooLargeError) throw new TesseraError("permanent", err.message, { cause: err });
    throw err;
  }
}

function priceOrUndefined(deps: WorkerDeps, model: string): ModelPrice | undefined {
  try {
    return priceFor(deps.prices, model);
  } catch (err) {
    // Ingest refuses a cost budget without a price, so here an unknown price only hides the cost.
    if (err instanceof UnknownPriceError) return undefined;
    throw err;
  }
}
