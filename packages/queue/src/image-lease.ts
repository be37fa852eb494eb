import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { redisKeys, type Keys } from "./keys.ts";

// KEYS: lease. ARGV: token, ttl. 1 while the caller still holds the lease (now extended), else 0.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

// KEYS: lease. ARGV: token. Deletes the lease only if it is still the caller's.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface Lease {
  /** Stops renewing and frees the image for others; a lease taken over meanwhile is left alone. */
  release(): Promise<void>;
}

export type LeaseResult = { ok: true; lease: Lease } | { ok: false; heldForMs: number };

/**
 * One worker at a time per image of a run: a Redis key set with NX and a TTL, renewed while the
 * holder works. Two deliveries of the same image (a stalled job taken over while its first worker
 * still runs, a job enqueued twice) would otherwise both pay Gemini. A holder that dies stops
 * renewing, and the lease lapses after its TTL.
 */
export class ImageLeases {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #ttlMs: number;

  constructor(redis: Redis, prefix: string, ttlMs: number) {
    this.#redis = redis;
    this.#keys = redisKeys(prefix);
    this.#ttlMs = ttlMs;
  }

  async acquire(runId: string, key: string): Promise<LeaseResult> {
    const leaseKey = this.#keys.lease(runId, key);
    const token = randomBytes(12).toString("hex");
    const set = await this.#redis.set(leaseKey, token, "PX", this.#ttlMs, "NX");
    if (set !== "OK") {
      const ttl = await this.#redis.pttl(leaseKey);
      // -2: released in between; -1 cannot happen (always set with a TTL). Either way, retry soon.
      return { ok: false, heldForMs: ttl > 0 ? ttl : 0 };
    }
    const renew = () =>
      this.#redis.eval(RENEW, 1, leaseKey, token, this.#ttlMs).catch(() => {
        // A Redis blip: the next tick tries again, and the TTL covers two missed renewals.
      });
    const timer = setInterval(() => void renew(), Math.max(100, Math.floor(this.#ttlMs / 3)));
    timer.unref();
    return {
      ok: true,
      lease: {
        release: async () => {
          clearInterval(timer);
          await this.#redis.eval(RELEASE, 1, leaseKey, token);
        },
      },
    };
  }
}
