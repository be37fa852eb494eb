/**
 * Every Redis key Tessera owns, in one place: docs/redis.md documents exactly these and
 * back-office tools read them, so changing one is a contract change (bump REDIS_CONTRACT_VERSION).
 */
export const REDIS_CONTRACT_VERSION = 2;

export interface Keys {
  prefix: string;
  /** Sorted set of run ids scored by creation time (ms since epoch). */
  runs: string;
  /** Hash: a run's configuration, status, counters and timings. */
  run(runId: string): string;
  /** Hash: source key -> manifest line (JSON) once the object's outcome is final. */
  items(runId: string): string;
  /**
   * Hash: unit key -> JSON {prompt, output, image, costMicros, answers, reason}: answers paid
   * for that could not be read, waiting for the unit's stricter retry. The unit's outcome adds
   * them to its manifest line and the run's counters, and removes the field, in one script.
   */
  unusable(runId: string): string;
  /** Stream: status changes and errors of a run, capped. */
  events(runId: string): string;
  /** Sorted set of schedule ids scored by creation time (ms since epoch). */
  schedules: string;
  /** Hash: a schedule's configuration, state and last firing. */
  schedule(id: string): string;
  /** Sorted set: the runs a schedule started, scored by firing time (ms since epoch). */
  scheduleRuns(id: string): string;
  /** String with a TTL: the worker now annotating this image of the run (image-lease.ts). */
  lease(runId: string, key: string): string;
}

export function redisKeys(prefix: string): Keys {
  return {
    prefix,
    runs: `${prefix}:runs`,
    run: (runId) => `${prefix}:run:${runId}`,
    items: (runId) => `${prefix}:run:${runId}:items`,
    unusable: (runId) => `${prefix}:run:${runId}:unusable`,
    events: (runId) => `${prefix}:run:${runId}:events`,
    schedules: `${prefix}:schedules`,
    schedule: (id) => `${prefix}:schedule:${id}`,
    scheduleRuns: (id) => `${prefix}:schedule:${id}:runs`,
    lease: (runId, key) => `${prefix}:lease:${runId}:${key}`,
  };
}

/** BullMQ keys live under their own prefix so a `SCAN tessera:run:*` never wades through queue internals. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}
