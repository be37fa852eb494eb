// Seeded, replayable misbehaviour: the same seed and the same order of requests give the same
// faults and delays, so a flaky-looking test run can be reproduced exactly.

export type FaultCode = 429 | 500 | 503 | 504;

export interface FaultRates {
  /** Fractions of requests, 0..1, drawn in this order; their sum must not exceed 1. */
  rate429?: number;
  rate500?: number;
  rate503?: number;
  /** RetryInfo.retryDelay carried by 429 answers, in seconds. */
  retryDelaySeconds?: number;
}

export type LatencyOption = number | { min: number; max: number };

export interface FaultDecision {
  fault: FaultCode | undefined;
  latencyMs: number;
}

/** mulberry32: tiny, fast, and good enough to spread faults evenly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  readonly #forced: FaultCode[] = [];
  // Separate streams, so changing the latency settings does not reshuffle which requests fail.
  readonly #faultRandom: () => number;
  readonly #latencyRandom: () => number;
  readonly #thresholds: readonly [FaultCode, number][];
  readonly #latency: LatencyOption;

  constructor(options: { faults?: FaultRates; latencyMs?: LatencyOption; seed?: number }) {
    const faults = options.faults ?? {};
    const rates: [FaultCode, number][] = [
      [429, faults.rate429 ?? 0],
      [500, faults.rate500 ?? 0],
      [503, faults.rate503 ?? 0],
    ];
    for (const [code, rate] of rates) {
      if (!(rate >= 0 && rate <= 1))
        throw new RangeError(`faults.rate${code} must be between 0 and 1, got ${rate}`);
    }
    let cumulative = 0;
    this.#thresholds = rates.map(([code, rate]) => [code, (cumulative += rate)]);
    if (cumulative > 1 + 1e-9) throw new RangeError(`fault rates add up to ${cumulative}, more than 1`);

    const latency = options.latencyMs ?? 0;
    const [min, max] = typeof latency === "number" ? [latency, latency] : [latency.min, latency.max];
    if (!(min >= 0 && max >= min && Number.isFinite(max))) {
      throw new RangeError(
        `latencyMs must be a number >= 0 or {min, max} with 0 <= min <= max, got ${JSON.stringify(latency)}`,
      );
    }
    this.#latency = latency;

    const seed = options.seed ?? 1;
    this.#faultRandom = seededRandom(seed);
    this.#latencyRandom = seededRandom(seed ^ 0x5bd1e995);
  }

  /** Makes the next `count` requests fail with `code`, ahead of any random faults. */
  failNext(count: number, code: FaultCode): void {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`failNext count must be an integer >= 0, got ${count}`);
    for (let i = 0; i < count; i += 1) this.#forced.push(code);
  }

  get pending(): number {
    return this.#forced.length;
  }

  next(): FaultDecision {
    // Draw even when a fault is forced, so forced faults do not shift the random sequence.
    const draw = this.#faultRandom();
    const random = this.#thresholds.find(([, threshold]) => draw < threshold)?.[0];
    const fault = this.#forced.shift() ?? random;
    const latencyMs =
      typeof this.#latency === "number"
        ? this.#latency
        : Math.round(this.#latency.min + this.#latencyRandom() * (this.#latency.max - this.#latency.min));
    return { fault, latencyMs };
  }
}
