import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * A unique key namespace for one test file on the shared Redis, deleted afterwards. Other
 * projects and other test files use the same server, so nothing here may touch keys outside it.
 */
export async function useTestPrefix(
  label: string,
): Promise<{ prefix: string; redis: Redis; cleanup(): Promise<void> }> {
  const prefix = `tessera-test-${label}-${randomBytes(4).toString("hex")}`;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  await redis.ping();
  return {
    prefix,
    redis,
    async cleanup() {
      await deleteByPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
