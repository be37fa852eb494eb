import { Redis } from "ioredis";

/**
 * BullMQ workers block on Redis and must never give up on a command (`maxRetriesPerRequest:
 * null`), while short-lived CLI commands should fail fast when Redis is down rather than hang.
 */
export function createRedis(url: string, role: "worker" | "client"): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: role === "worker",
    lazyConnect: role === "client",
    connectTimeout: 5_000,
    retryStrategy: role === "worker" ? (times) => Math.min(times * 200, 5_000) : () => null,
  });
}

/** A one-line, password-free description of a Redis URL for messages. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || "6379"}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

export class RedisUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `Redis is not reachable at ${describeRedisUrl(url)} (${cause instanceof Error ? cause.message : String(cause)}). ` +
        "Start one (e.g. `redis-server --daemonize yes`) or point REDIS_URL / --redis-url at yours.",
      { cause },
    );
    this.name = "RedisUnavailableError";
  }
}

/** Connects and pings, turning connection failures into one clear error. */
export async function assertRedisReachable(redis: Redis, url: string): Promise<void> {
  try {
    if (redis.status === "wait") await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new RedisUnavailableError(url, err);
  }
}
