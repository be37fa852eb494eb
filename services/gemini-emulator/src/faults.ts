// Seeded, replayable misbehaviour: the same seed and the same order of requests give the same
// faults and delays, so a flaky-looking test run can be reproduced exactly. A fault comes from a
// marker (in an image or the x-tessera-fault header), from the forced queue (failNext), or from
// the configured rates, in that order of precedence.
import type { FaultSpec } from "./markers.ts";

export type FaultCode = 429 | 500 | 503 | 504;

/** Answers other than the model's: an HTTP error, or a connection dropped mid-answer. */
export const ERROR_FAULTS = ["429", "500", "503", "504", "reset"] as const;
export type ErrorFault = (typeof ERROR_FAULTS)[number];

/** A prompt refused outright, or an answer stopped for safety. */
export const SAFETY_FAULTS = ["block", "safety"] as const;
export type SafetyFault = (typeof SAFETY_FAULTS)[number];

/** The odd shapes real answers come in, applied to the text the emulator produced. */
export const SHAPE_FAULTS = [
  "fence",
  "prose",
  "truncate",
  "reversed-boxes",
  "over-1000",
  "wrapped-boxes",
  "seg-masks",
  "duplicates",
  // Added later: drawn only when their rate is set (see next()), so older seeds replay unchanged.
  "garbled",
  "drop-key",
] as const;
/** The shapes every request draws for, whatever the rates. */
const ALWAYS_DRAWN = 8;
export type ShapeFault = (typeof SHAPE_FAULTS)[number];

export type ContentFault = SafetyFault | ShapeFault;
export type FaultName = ErrorFault | ContentFault;

export const FAULT_NAMES: readonly FaultName[] = [...ERROR_FAULTS, ...SAFETY_FAULTS, ...SHAPE_FAULTS];

export function isFaultName(value: string): value is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(value);
}

export interface FaultRates {
  /** Older spellings of rates["429"], rates["500"] and rates["503"]. */
  rate429?: number;
  rate500?: number;
  rate503?: number;
  /**
   * Fractions of requests, 0..1. The error faults exclude each other (their sum must not exceed
   * 1), so do block and safety; the shapes are drawn independently and combine.
   */
  rates?: Partial<Record<FaultName, number>>;
  /** A random 429 starts a burst: it and the next `burst429 - 1` requests get 429 (default 1). */
  burst429?: number;
  /** Where a "truncate" fault cuts the answer, in tokens; half the answer when unset. */
  truncateTokens?: number;
  /** RetryInfo.retryDelay carried by injected 429 answers, in seconds. */
  retryDelaySeconds?: number;
}

/**
 * A fixed delay, a uniform one between min and max, or a long-tailed (log-normal) one with the
 * given median and 99th percentile, capped at `max` (default 4 x p99).
 */
export type LatencyOption =
  number | { min: number; max: number } | { p50: number; p99: number; max?: number };

export interface FaultSettings {
  faults?: FaultRates;
  latencyMs?: LatencyOption;
  seed?: number;
}

export interface FaultDecision {
  error: ErrorFault | undefined;
  latencyMs: number;
  /** Changes to the answer, in a fixed order; always empty for countTokens. */
  content: ContentFault[];
  truncateTokens: number | undefined;
}

export type ModelRoute = "generateContent" | "countTokens";

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

/** z for the 99th percentile of a standard normal distribution. */
const Z_99 = 2.3263478740408408;

interface Resolved {
  errorThresholds: [ErrorFault, number][];
  safetyThresholds: [SafetyFault, number][];
  shapeRates: [ShapeFault, number][];
  burst429: number;
  truncateTokens: number | undefined;
  sampleLatency: (u1: number, u2: number) => number;
}

export class FaultInjector {
  readonly #forcedErrors: ErrorFault[] = [];
  readonly #forcedContent: ContentFault[] = [];
  #settings: FaultSettings = {};
  #resolved!: Resolved;
  // Separate streams, each drawn the same number of times per request whatever the settings, so
  // changing one rate or the latency does not reshuffle which requests get the other faults.
  #errorRandom!: () => number;
  #latencyRandom!: () => number;
  #contentRandom!: () => number;

  constructor(settings: FaultSettings = {}) {
    this.reconfigure(settings, true);
  }

  get settings(): FaultSettings {
    return this.#settings;
  }

  /** Validates and applies new settings; the random streams restart only when asked or the seed changes. */
  reconfigure(settings: FaultSettings, reseed = settings.seed !== this.#settings.seed): void {
    const normalized = withoutLegacyRates(settings);
    this.#resolved = resolve(normalized);
    this.#settings = normalized;
    if (reseed) {
      const seed = settings.seed ?? 1;
      this.#errorRandom = seededRandom(seed);
      this.#latencyRandom = seededRandom(seed ^ 0x5bd1e995);
      this.#contentRandom = seededRandom(seed ^ 0x27d4eb2f);
    }
  }

  /** Makes the next `count` requests get `fault`, ahead of random ones; content faults wait for a generateContent. */
  failNext(count: number, fault: FaultCode | FaultName): void {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`failNext count must be an integer >= 0, got ${count}`);
    const name = String(fault);
    if (!isFaultName(name)) throw new RangeError(`unknown fault ${name}; known: ${FAULT_NAMES.join(", ")}`);
    const queue: FaultName[] = isErrorFault(name) ? this.#forcedErrors : this.#forcedContent;
    for (let i = 0; i < count; i += 1) queue.push(name);
  }

  get pending(): number {
    return this.#forcedErrors.length + this.#forcedContent.length;
  }

  clearForced(): void {
    this.#forcedErrors.length = 0;
    this.#forcedContent.length = 0;
  }

  next(route: ModelRoute = "generateContent", marked: FaultSpec = {}): FaultDecision {
    const resolved = this.#resolved;
    const errorDraw = this.#errorRandom();
    const latencyDraws = [this.#latencyRandom(), this.#latencyRandom()] as const;
    const safetyDraw = this.#contentRandom();
    const shapeDraws = resolved.shapeRates.map(([, rate], index) =>
      index < ALWAYS_DRAWN || rate > 0 ? this.#contentRandom() : 1,
    );

    let error: ErrorFault | undefined = marked.error;
    if (error === "429" && marked.burst !== undefined) this.failNext(marked.burst - 1, "429");
    // A request whose marker names its own error leaves the forced queue for the next ones.
    if (error === undefined) error = this.#forcedErrors.shift();
    if (error === undefined) {
      error = resolved.errorThresholds.find(([, threshold]) => errorDraw < threshold)?.[0];
      if (error === "429" && resolved.burst429 > 1) this.failNext(resolved.burst429 - 1, "429");
    }

    const latencyMs = marked.latencyMs ?? resolved.sampleLatency(...latencyDraws);
    if (route !== "generateContent") return { error, latencyMs, content: [], truncateTokens: undefined };

    const chosen = new Set<ContentFault>(marked.content ?? []);
    const forced = this.#forcedContent.shift();
    if (forced !== undefined) chosen.add(forced);
    const safety = resolved.safetyThresholds.find(([, threshold]) => safetyDraw < threshold)?.[0];
    if (safety !== undefined && !chosen.has("block") && !chosen.has("safety")) chosen.add(safety);
    resolved.shapeRates.forEach(([fault, rate], index) => {
      if (shapeDraws[index]! < rate) chosen.add(fault);
    });
    return {
      error,
      latencyMs,
      content: FAULT_NAMES.filter((name): name is ContentFault => chosen.has(name as ContentFault)),
      truncateTokens: marked.truncateTokens ?? resolved.truncateTokens,
    };
  }
}

export function isErrorFault(name: string): name is ErrorFault {
  return (ERROR_FAULTS as readonly string[]).includes(name);
}

/** rate429/rate500/rate503 become entries of `rates`, so later changes to `rates` see one map. */
function withoutLegacyRates(settings: FaultSettings): FaultSettings {
  if (settings.faults === undefined) return settings;
  const { rate429, rate500, rate503, ...faults } = settings.faults;
  const rates = { ...faults.rates };
  for (const [name, value] of [
    ["429", rate429],
    ["500", rate500],
    ["503", rate503],
  ] as const) {
    if (value !== undefined) rates[name] = value;
  }
  return { ...settings, faults: Object.keys(rates).length > 0 ? { ...faults, rates } : faults };
}

function resolve(settings: FaultSettings): Resolved {
  const faults = settings.faults ?? {};
  const rates: Partial<Record<FaultName, number>> = { ...faults.rates };
  for (const [name, rate] of Object.entries(rates)) {
    if (!isFaultName(name)) throw new RangeError(`unknown fault ${name}; known: ${FAULT_NAMES.join(", ")}`);
    if (!(typeof rate === "number" && rate >= 0 && rate <= 1)) {
      throw new RangeError(`fault rate for ${name} must be between 0 and 1, got ${String(rate)}`);
    }
  }
  const cumulative = <T extends FaultName>(names: readonly T[], group: string): [T, number][] => {
    let sum = 0;
    const thresholds = names.map((name): [T, number] => [name, (sum += rates[name] ?? 0)]);
    if (sum > 1 + 1e-9) throw new RangeError(`${group} fault rates add up to ${sum}, more than 1`);
    return thresholds;
  };
  return {
    errorThresholds: cumulative(ERROR_FAULTS, "error"),
    safetyThresholds: cumulative(SAFETY_FAULTS, "block and safety"),
    shapeRates: SHAPE_FAULTS.map((name) => [name, rates[name] ?? 0]),
    burst429: integerAtLeast("faults.burst429", faults.burst429 ?? 1, 1),
    truncateTokens:
      faults.truncateTokens === undefined
        ? undefined
        : integerAtLeast("faults.truncateTokens", faults.truncateTokens, 1),
    sampleLatency: latencySampler(settings.latencyMs ?? 0),
  };
}

function latencySampler(latency: LatencyOption): (u1: number, u2: number) => number {
  const invalid = () =>
    new RangeError(
      "latencyMs must be a number >= 0, {min, max} with 0 <= min <= max, or {p50, p99} with " +
        `0 < p50 <= p99, got ${JSON.stringify(latency)}`,
    );
  if (typeof latency === "number") {
    if (!(latency >= 0 && Number.isFinite(latency))) throw invalid();
    return () => latency;
  }
  if ("p50" in latency) {
    const { p50, p99 } = latency;
    const cap = latency.max ?? 4 * p99;
    if (!(p50 > 0 && p99 >= p50 && Number.isFinite(p99) && cap >= p99)) throw invalid();
    const mu = Math.log(p50);
    const sigma = Math.log(p99 / p50) / Z_99;
    return (u1, u2) => {
      // Box-Muller; 1 - u1 keeps the logarithm away from zero.
      const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
      return Math.min(cap, Math.round(Math.exp(mu + sigma * z)));
    };
  }
  const { min, max } = latency;
  if (!(min >= 0 && max >= min && Number.isFinite(max))) throw invalid();
  return (u1) => Math.round(min + u1 * (max - min));
}

function integerAtLeast(name: string, value: number, minimum: number): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be an integer >= ${minimum}, got ${value}`);
  }
  return value;
}
