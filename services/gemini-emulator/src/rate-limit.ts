// Sliding-window quotas per API key and model. The real API counts per project; here each key is
// its own project, so a test can run several independent clients against one emulator.
//
// A request is admitted (and counted) at once when it fits, so concurrent requests cannot both
// slip under a limit; one that is refused is not counted, as the API does not charge quota for a
// 429. The caller releases an admission it later answers with an injected 429, for the same reason.
import type { Clock } from "./files/clock.ts";
import type { LimitKind, RateLimits, TierName } from "./rate-limit-tiers.ts";
import { LIMIT_KINDS, RATE_LIMIT_TIERS, isTierName } from "./rate-limit-tiers.ts";

export interface RateLimitOptions {
  /** A published tier's figures for every model, before `all` and `byModel`. */
  tier?: TierName;
  /** Applied to every model, field by field over the tier. */
  all?: RateLimits;
  /** Per model, field by field over the rest. */
  byModel?: Readonly<Record<string, RateLimits>>;
}

export interface Violation {
  kind: LimitKind;
  limit: number;
  /** Until enough of the window's usage expires for this request to fit. */
  retryDelayMs: number;
}

export type Admission =
  | { admitted: true; release: () => void }
  | { admitted: false; violations: Violation[]; retryDelayMs: number };

interface Usage {
  at: number;
  tokens: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const WINDOW_MS: Record<LimitKind, number> = { rpm: MINUTE_MS, tpm: MINUTE_MS, rpd: DAY_MS };

const NOTHING_TO_RELEASE = (): void => {};

export class RateLimiter {
  readonly #clock: Clock;
  #options: RateLimitOptions = {};
  /** Per key, then per model, oldest first; nothing older than the longest window is kept. */
  readonly #usage = new Map<string, { client: number; byModel: Map<string, Usage[]> }>();

  constructor(options: RateLimitOptions | undefined, clock: Clock) {
    this.#clock = clock;
    this.configure(options ?? {});
  }

  get options(): RateLimitOptions {
    return this.#options;
  }

  /** Replaces the limits; usage recorded so far still counts against the new ones. */
  configure(options: RateLimitOptions): void {
    validate(options);
    this.#options = options;
  }

  /** Forgets all usage, as if every window had just emptied. */
  clearUsage(): void {
    this.#usage.clear();
  }

  limitsFor(model: string): RateLimits {
    const tier = this.#options.tier === undefined ? {} : RATE_LIMIT_TIERS[this.#options.tier];
    return { ...tier, ...this.#options.all, ...this.#options.byModel?.[model] };
  }

  admit(apiKey: string, model: string, promptTokens: number): Admission {
    const limits = this.limitsFor(model);
    if (LIMIT_KINDS.every((kind) => limits[kind] === undefined)) {
      return { admitted: true, release: NOTHING_TO_RELEASE };
    }
    const now = this.#clock.now();
    const usage = this.#windowOf(apiKey, model);
    usage.splice(0, firstActive(usage, now, DAY_MS));

    const violations: Violation[] = [];
    const minuteStart = firstActive(usage, now, MINUTE_MS);
    const requestCheck = (kind: "rpm" | "rpd", start: number) => {
      const limit = limits[kind];
      if (limit === undefined) return;
      const delay = requestDelay(usage, start, limit, now, WINDOW_MS[kind]);
      if (delay !== undefined) violations.push({ kind, limit, retryDelayMs: delay });
    };
    requestCheck("rpm", minuteStart);
    if (limits.tpm !== undefined) {
      const delay = tokenDelay(usage, minuteStart, limits.tpm, promptTokens, now);
      if (delay !== undefined) violations.push({ kind: "tpm", limit: limits.tpm, retryDelayMs: delay });
    }
    requestCheck("rpd", 0);

    if (violations.length > 0) {
      // Every violated window must have room before a retry can pass.
      return {
        admitted: false,
        violations,
        retryDelayMs: Math.max(...violations.map((v) => v.retryDelayMs)),
      };
    }
    const entry: Usage = { at: now, tokens: promptTokens };
    usage.push(entry);
    return {
      admitted: true,
      release: () => {
        const index = usage.lastIndexOf(entry);
        if (index >= 0) usage.splice(index, 1);
      },
    };
  }

  /**
   * Requests and prompt tokens inside each window right now. Keys are never reported: `client` is
   * the order in which this limiter first saw each key (1, 2, ...).
   */
  usage(): WindowUsage[] {
    const now = this.#clock.now();
    const rows: WindowUsage[] = [];
    for (const { client, byModel } of this.#usage.values()) {
      for (const [model, usage] of byModel) {
        const minute = usage.slice(firstActive(usage, now, MINUTE_MS));
        rows.push({
          client,
          model,
          rpm: minute.length,
          tpm: minute.reduce((sum, entry) => sum + entry.tokens, 0),
          rpd: usage.length - firstActive(usage, now, DAY_MS),
        });
      }
    }
    return rows;
  }

  #windowOf(apiKey: string, model: string): Usage[] {
    let perKey = this.#usage.get(apiKey);
    if (perKey === undefined) {
      perKey = { client: this.#usage.size + 1, byModel: new Map() };
      this.#usage.set(apiKey, perKey);
    }
    let usage = perKey.byModel.get(model);
    if (usage === undefined) {
      usage = [];
      perKey.byModel.set(model, usage);
    }
    return usage;
  }
}

export interface WindowUsage {
  client: number;
  model: string;
  rpm: number;
  tpm: number;
  rpd: number;
}

/** Index of the first entry still inside a window of `windowMs` ending now (entries expire at at + window). */
function firstActive(usage: readonly Usage[], now: number, windowMs: number): number {
  let low = 0;
  let high = usage.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (usage[middle]!.at + windowMs <= now) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Time until one more request fits under `limit`, or undefined when it fits now. */
function requestDelay(
  usage: readonly Usage[],
  start: number,
  limit: number,
  now: number,
  windowMs: number,
): number | undefined {
  const active = usage.length - start;
  if (active + 1 <= limit) return undefined;
  // The oldest (active + 1 - limit) requests must leave the window; the last of them decides.
  const decisive = usage[start + active - limit];
  return decisive === undefined ? windowMs : decisive.at + windowMs - now;
}

function tokenDelay(
  usage: readonly Usage[],
  start: number,
  limit: number,
  tokens: number,
  now: number,
): number | undefined {
  let used = 0;
  for (let i = start; i < usage.length; i += 1) used += usage[i]!.tokens;
  if (used + tokens <= limit) return undefined;
  // A prompt larger than the whole limit never fits: say "a full window" rather than "now".
  if (tokens > limit) return MINUTE_MS;
  for (let i = start; i < usage.length; i += 1) {
    used -= usage[i]!.tokens;
    if (used + tokens <= limit) return usage[i]!.at + MINUTE_MS - now;
  }
  return MINUTE_MS;
}

function validate(options: RateLimitOptions): void {
  const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);
  if (options.all !== undefined && !isObject(options.all))
    throw new RangeError("rateLimits.all must be an object");
  if (options.byModel !== undefined && !isObject(options.byModel)) {
    throw new RangeError("rateLimits.byModel must be an object");
  }
  for (const [model, limits] of Object.entries(options.byModel ?? {})) {
    if (!isObject(limits)) throw new RangeError(`rateLimits.byModel.${model} must be an object`);
  }
  if (options.tier !== undefined && !isTierName(options.tier)) {
    throw new RangeError(`rate limit tier must be free, tier1, tier2 or tier3, got ${String(options.tier)}`);
  }
  const check = (where: string, limits: RateLimits | undefined) => {
    for (const kind of LIMIT_KINDS) {
      const value = limits?.[kind];
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
        throw new RangeError(`${where}.${kind} must be an integer >= 0, got ${String(value)}`);
      }
    }
  };
  check("rateLimits.all", options.all);
  for (const [model, limits] of Object.entries(options.byModel ?? {}))
    check(`rateLimits.byModel.${model}`, limits);
}
