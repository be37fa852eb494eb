import type { Redis } from "ioredis";
import type { Storage } from "@tessera/storage";

/** A secret value found, or a signed-URL query parameter, and where. */
export interface SecretFinding {
  where: string;
  what: string;
}

// SigV4 query signing (S3 pre-signed URLs); matched case-insensitively and percent-encoded too,
// since a URL may be escaped once more inside JSON or a log line.
const SIGNED_QUERY = /x-amz-(signature|credential|security-token)(=|%3d)/i;

/**
 * Every place in `text` that holds one of `secrets` (verbatim, or base64- or percent-encoded) or
 * the query of a pre-signed URL. Secrets shorter than 8 characters are refused: they would match
 * by chance and prove nothing.
 */
export function findSecrets(
  where: string,
  text: string,
  secrets: Readonly<Record<string, string>>,
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (value.length < 8) throw new RangeError(`secret ${name} is too short to scan for`);
    const forms = [value, encodeURIComponent(value), Buffer.from(value).toString("base64")];
    if (forms.some((form) => text.includes(form))) findings.push({ where, what: name });
  }
  const signed = SIGNED_QUERY.exec(text);
  if (signed) findings.push({ where, what: `signed URL query (${signed[0]})` });
  return findings;
}

/** Every key under `prefix:` with its whole value as text (strings, hashes, lists, sets, sorted sets, streams). */
export async function dumpRedisPrefix(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === "string") value = await redis.get(key);
      else if (type === "hash") value = await redis.hgetall(key);
      else if (type === "list") value = await redis.lrange(key, 0, -1);
      else if (type === "set") value = await redis.smembers(key);
      else if (type === "zset") value = await redis.zrange(key, 0, -1, "WITHSCORES");
      else if (type === "stream") value = await redis.xrange(key, "-", "+");
      else continue;
      dump.set(key, JSON.stringify(value));
    }
  } while (cursor !== "0");
  return dump;
}

/** Every object under a storage location, as text. */
export async function dumpStorage(storage: Storage): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  for await (const object of storage.list()) {
    dump.set(storage.describe(object.key), (await storage.get(object.key)).toString("latin1"));
  }
  return dump;
}
