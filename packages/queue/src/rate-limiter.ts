import type { Redis } from "ioredis";

/** Limits of one model for one account; undefined means unlimited. */
export interface ModelLimits {
  rpm?: number;
  /** Input tokens per minute, as Gemini counts them. */
  tpm?: number;
  rpd?: number;
}

export type LimitMetric = "rpm" | "tpm" | "rpd";

export type Acquired =
  { ok: true; reservation: Reservation } | { ok: false; waitMs: number; metric: LimitMetric };

export interface Reservation {
  model: string;
  tokens: number;
  /** Bucket the tokens were charged to, so settling adjusts the same window. */
  bucket: number;
}

const WINDOWS: Record<LimitMetric, { windowMs: number; bucketMs: number }> = {
  rpm: { windowMs: 60_000, bucketMs: 1_000 },
  tpm: { windowMs: 60_000, bucketMs: 1_000 },
  rpd: { windowMs: 86_400_000, bucketMs: 60_000 },
};

// Sliding windows made of small buckets (1 s for per-minute limits, 1 min for per-day ones). A
// bucket counts until its end plus the window, so the limiter never lets more through than the
// true sliding window would; it gives away at most one bucket's share (under 2 %).
//
// Per metric three keys: a hash bucket -> amount, a sorted set of live buckets, and the running
// sum. KEYS: for each of rpm, tpm, rpd: hash, zset, sum (9 keys).
// ARGV: now, tokens, then per metric: limit (or -1), windowMs, bucketMs.
// Returns {1, bucket} when granted, or {0, waitMs, metricIndex}.
const ACQUIRE = `
local now = tonumber(ARGV[1])
local amounts = { 1, tonumber(ARGV[2]), 1 }
local function purge(i, window, bucketMs)
  local hash, zset, sum = KEYS[i*3-2], KEYS[i*3-1], KEYS[i*3]
  local oldest = math.floor((now - window) / bucketMs) - 1
  local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', oldest)
  if #expired > 0 then
    local freed = 0
    for _, b in ipairs(expired) do
      freed = freed + tonumber(redis.call('HGET', hash, b) or '0')
      redis.call('HDEL', hash, b)
    end
    redis.call('ZREMRANGEBYSCORE', zset, '-inf', oldest)
    redis.call('DECRBY', sum, freed)
  end
end
local function waitFor(i, limit, amount, window, bucketMs)
  local hash, zset, sum = KEYS[i*3-2], KEYS[i*3-1], KEYS[i*3]
  local used = tonumber(redis.call('GET', sum) or '0')
  if used + amount <= limit then return 0 end
  if amount > limit then return -1 end
  local buckets = redis.call('ZRANGE', zset, 0, -1)
  for _, b in ipairs(buckets) do
    used = used - tonumber(redis.call('HGET', hash, b) or '0')
    if used + amount <= limit then
      return (tonumber(b) + 1) * bucketMs + window - now
    end
  end
  return window
end
local longest, which = 0, 0
for i = 1, 3 do
  local limit = tonumber(ARGV[i*3])
  local window, bucketMs = tonumber(ARGV[i*3+1]), tonumber(ARGV[i*3+2])
  purge(i, window, bucketMs)
  if limit >= 0 then
    local w = waitFor(i, limit, amounts[i], window, bucketMs)
    if w < 0 then return {0, -1, i} end
    if w > longest then longest, which = w, i end
  end
end
if longest > 0 then return {0, longest, which} end
for i = 1, 3 do
  local bucketMs = tonumber(ARGV[i*3+2])
  local b = math.floor(now / bucketMs)
  local hash, zset, sum = KEYS[i*3-2], KEYS[i*3-1], KEYS[i*3]
  redis.call('HINCRBY', hash, b, amounts[i])
  redis.call('ZADD', zset, b, b)
  redis.call('INCRBY', sum, amounts[i])
  redis.call('PEXPIRE', hash, tonumber(ARGV[i*3+1]) * 2)
  redis.call('PEXPIRE', zset, tonumber(ARGV[i*3+1]) * 2)
  redis.call('PEXPIRE', sum, tonumber(ARGV[i*3+1]) * 2)
end
return {1, math.floor(now / tonumber(ARGV[8]))}
`;

// KEYS: tpm hash, zset, sum. ARGV: bucket, delta. Moves a reservation to what was really used.
const SETTLE = `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) == false then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[3], ARGV[2])
return 1
`;

export class RequestTooLargeError extends Error {
  constructor(model: string, tokens: number, tpm: number) {
    super(`a request of ${tokens} input tokens can never fit ${model}'s limit of ${tpm} tokens per minute`);
    this.name = "RequestTooLargeError";
  }
}

/**
 * Keeps every worker of a fleet inside the account's RPM, TPM and RPD per model, through Redis.
 * Requests are weighted by their estimated input tokens, reserved before the call and settled
 * with the usageMetadata Gemini reports. BullMQ's own limiter counts jobs, not tokens, so it
 * cannot do this alone.
 */
export class FleetRateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limits: (model: string) => ModelLimits;
  readonly #now: () => number;

  constructor(
    redis: Redis,
    prefix: string,
    limits: (model: string) => ModelLimits,
    now: () => number = Date.now,
  ) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#limits = limits;
    this.#now = now;
  }

  #keys(model: string): string[] {
    return (["rpm", "tpm", "rpd"] as const).flatMap((metric) => {
      const base = `${this.#prefix}:ratelimit:${model}:${metric}`;
      return [`${base}:buckets`, `${base}:index`, `${base}:sum`];
    });
  }

  async acquire(model: string, tokens: number): Promise<Acquired> {
    const limits = this.#limits(model);
    const args: (string | number)[] = [this.#now(), Math.max(0, Math.ceil(tokens))];
    for (const metric of ["rpm", "tpm", "rpd"] as const) {
      args.push(limits[metric] ?? -1, WINDOWS[metric].windowMs, WINDOWS[metric].bucketMs);
    }
    const result = (await this.#redis.eval(ACQUIRE, 9, ...this.#keys(model), ...args)) as number[];
    if (result[0] === 1)
      return { ok: true, reservation: { model, tokens: Math.ceil(tokens), bucket: result[1]! } };
    const metric = (["rpm", "tpm", "rpd"] as const)[result[2]! - 1]!;
    if (result[1] === -1) throw new RequestTooLargeError(model, Math.ceil(tokens), limits.tpm ?? 0);
    return { ok: false, waitMs: result[1]!, metric };
  }

  /** Replaces the reserved token estimate with the tokens actually billed. */
  async settle(reservation: Reservation, actualTokens: number): Promise<void> {
    const delta = Math.ceil(actualTokens) - reservation.tokens;
    if (delta === 0) return;
    const keys = this.#keys(reservation.model).slice(3, 6);
    await this.#redis.eval(SETTLE, 3, ...keys, reservation.bucket, delta);
  }
}
