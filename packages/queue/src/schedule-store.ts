import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { UsageError } from "@tessera/core";
import { jobCatalog } from "./catalog.ts";
import { redisKeys, type Keys } from "./keys.ts";

/** A claim whose run never appeared (its scheduler died before creating it) stops blocking after this. */
const CLAIM_STALE_MS = 5 * 60_000;

// KEYS: schedule hash, schedule runs. ARGV: runId, firedAt ms, firedAt ISO, run key prefix, now
// ms, stale ms. Returns the run in the way, or nil when the firing is claimed.
const CLAIM_FIRING = `
local last = redis.call('HGET', KEYS[1], 'lastRunId')
-- The same firing delivered again (its first attempt died before creating the run): still ours.
if last == ARGV[1] then return false end
if last then
  local status = redis.call('HGET', ARGV[4] .. last, 'status')
  if status == 'scanning' or status == 'running' or status == 'cancelling' or status == 'finalizing' then
    return last
  end
  local claimedAt = tonumber(redis.call('HGET', KEYS[1], 'lastClaimAt') or '0')
  if not status and tonumber(ARGV[5]) - claimedAt < tonumber(ARGV[6]) then return last end
end
redis.call('HSET', KEYS[1], 'lastRunId', ARGV[1], 'lastFiredAt', ARGV[3], 'lastClaimAt', ARGV[5])
redis.call('HDEL', KEYS[1], 'lastSkipReason')
redis.call('HINCRBY', KEYS[1], 'firings', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return false
`;

/** What `tessera schedule add` stores: where, when, and the run options of every firing. */
export const scheduleSpecSchema = z.object({
  id: z.string(),
  source: z.string().min(1),
  out: z.string().min(1),
  cron: z.string().min(1),
  tz: z.string().optional(),
  task: z.string().min(1),
  /** The run request of each firing (task options, model, detail, budget...), as JSON. */
  request: z.string().default("{}"),
  createdAt: z.iso.datetime(),
});
export type ScheduleSpec = z.infer<typeof scheduleSpecSchema>;

export const scheduleStateSchema = scheduleSpecSchema.extend({
  paused: z
    .enum(["0", "1"])
    .default("0")
    .transform((v) => v === "1"),
  firings: z.coerce.number().int().nonnegative().default(0),
  lastFiredAt: z.string().optional(),
  lastRunId: z.string().optional(),
  /** Why the last firing started no run (the previous run was still going, a location failed...). */
  lastSkipReason: z.string().optional(),
});
export type ScheduleState = z.infer<typeof scheduleStateSchema>;

export class ScheduleNotFoundError extends UsageError {
  constructor(id: string) {
    super(`no schedule "${id}" (see \`tessera schedule list\`)`);
    this.name = "ScheduleNotFoundError";
  }
}

/**
 * Schedules: a hash per schedule in Redis (the contract, docs/redis.md) plus a BullMQ job
 * scheduler of the same id on the "schedules" queue, which makes exactly one "scheduled-run" job
 * per firing however many processes consume that queue. Pausing removes the job scheduler and
 * keeps the hash; resuming upserts it again.
 */
export class ScheduleStore {
  readonly keys: Keys;
  readonly #redis: Redis;
  readonly #queue: Queue;

  constructor(redis: Redis, prefix: string, schedulesQueue: Queue) {
    this.#redis = redis;
    this.#queue = schedulesQueue;
    this.keys = redisKeys(prefix);
  }

  async add(spec: ScheduleSpec): Promise<void> {
    const valid = scheduleSpecSchema.parse(spec);
    const key = this.keys.schedule(valid.id);
    if ((await this.#redis.hsetnx(key, "id", valid.id)) === 0) {
      throw new UsageError(`schedule "${valid.id}" already exists (remove it first, or choose another --id)`);
    }
    const { tz, ...rest } = valid;
    const fields = { ...rest, ...(tz === undefined ? {} : { tz }), paused: "0", firings: "0" };
    await this.#redis
      .multi()
      .hset(key, fields)
      .zadd(this.keys.schedules, Date.parse(valid.createdAt), valid.id)
      .exec();
    await this.#upsert(valid);
  }

  async #upsert(spec: Pick<ScheduleSpec, "id" | "cron" | "tz">): Promise<void> {
    const { attempts, backoff } = jobCatalog["scheduled-run"].options;
    await this.#queue.upsertJobScheduler(
      spec.id,
      { pattern: spec.cron, ...(spec.tz === undefined ? {} : { tz: spec.tz }) },
      {
        name: "scheduled-run",
        data: jobCatalog["scheduled-run"].payload.parse({ scheduleId: spec.id }),
        opts: { attempts, backoff },
      },
    );
  }

  async get(id: string): Promise<ScheduleState | undefined> {
    const hash = await this.#redis.hgetall(this.keys.schedule(id));
    if (Object.keys(hash).length === 0) return undefined;
    return scheduleStateSchema.parse(hash);
  }

  async require(id: string): Promise<ScheduleState> {
    const state = await this.get(id);
    if (!state) throw new ScheduleNotFoundError(id);
    return state;
  }

  /** Oldest first. */
  async list(): Promise<ScheduleState[]> {
    const ids = await this.#redis.zrange(this.keys.schedules, 0, -1);
    const states = await Promise.all(ids.map((id) => this.get(id)));
    return states.filter((s): s is ScheduleState => s !== undefined);
  }

  /** When BullMQ will next fire it (undefined while paused). */
  async nextFiring(id: string): Promise<Date | undefined> {
    const scheduler = await this.#queue.getJobScheduler(id);
    return scheduler?.next === undefined ? undefined : new Date(scheduler.next);
  }

  async pause(id: string): Promise<void> {
    await this.require(id);
    await this.#redis.hset(this.keys.schedule(id), "paused", "1");
    await this.#queue.removeJobScheduler(id);
  }

  async resume(id: string): Promise<void> {
    const state = await this.require(id);
    await this.#redis.hset(this.keys.schedule(id), "paused", "0");
    await this.#upsert(state);
  }

  /** Stops the schedule and forgets it; the runs it started stay. */
  async remove(id: string): Promise<void> {
    await this.require(id);
    await this.#queue.removeJobScheduler(id);
    await this.#redis
      .multi()
      .del(this.keys.schedule(id), this.keys.scheduleRuns(id))
      .zrem(this.keys.schedules, id)
      .exec();
  }

  /**
   * Claims a firing for `runId`, atomically: refused (returning the run in the way) while the
   * schedule's previous run is still going, or is being started by another scheduler (claimed,
   * no run hash yet, less than CLAIM_STALE_MS ago). On success the run is the schedule's
   * `lastRunId` and in its history, so runs of one schedule never overlap.
   */
  async claimFiring(id: string, runId: string, firedAt: Date, now = new Date()): Promise<{ busy?: string }> {
    const busy = (await this.#redis.eval(
      CLAIM_FIRING,
      2,
      this.keys.schedule(id),
      this.keys.scheduleRuns(id),
      runId,
      firedAt.getTime(),
      firedAt.toISOString(),
      this.keys.run(""),
      now.getTime(),
      CLAIM_STALE_MS,
    )) as string | null;
    return busy === null ? {} : { busy };
  }

  /** A firing that started nothing: says why, and forgets its claim (if it had one). */
  async recordSkip(id: string, firedAt: Date, reason: string, claimedRunId?: string): Promise<void> {
    const key = this.keys.schedule(id);
    const multi = this.#redis
      .multi()
      .hincrby(key, "firings", claimedRunId === undefined ? 1 : 0)
      .hset(key, "lastFiredAt", firedAt.toISOString(), "lastSkipReason", reason);
    if (claimedRunId !== undefined) {
      multi.zrem(this.keys.scheduleRuns(id), claimedRunId);
      if ((await this.#redis.hget(key, "lastRunId")) === claimedRunId) multi.hdel(key, "lastRunId");
    }
    await multi.exec();
  }

  /** The runs a schedule started, newest first. */
  async history(id: string, limit = 50): Promise<string[]> {
    return this.#redis.zrevrange(this.keys.scheduleRuns(id), 0, limit - 1);
  }
}
