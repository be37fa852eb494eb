import { createHash } from "node:crypto";

/**
 * Job ids must be stable (a re-enqueue is ignored) and free of ':' (BullMQ's key separator). A
 * request of one image keeps the id of its key; a request of several, the id of its keys in order.
 */
export function annotateJobId(runId: string, key: string | readonly string[], attempt = 0): string {
  const text = typeof key === "string" ? key : key.join("\n");
  const base = `${runId}-${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
  return attempt === 0 ? base : `${base}-r${attempt}`;
}

/** A compare set's job id: apart from any image's, stable for the set (a re-enqueue is ignored). */
export function setJobId(runId: string, id: string, attempt = 0): string {
  return annotateJobId(runId, `set\n${id}`, attempt);
}
