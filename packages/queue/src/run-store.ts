import type { Redis } from "ioredis";
import { z } from "zod";
import {
  manifestLineSchema,
  runConfigSchema,
  runStatusSchema,
  type ManifestLine,
  type RunConfig,
  type RunStatus,
} from "@tessera/core";
import { REDIS_CONTRACT_VERSION, redisKeys, type Keys } from "./keys.ts";

/** Events kept per run: enough for a dashboard's recent history, bounded for million-image runs. */
const EVENTS_MAXLEN = 1_000;
/** At most one progress entry per run this often: followers see the counters move without polling. */
export const PROGRESS_EVERY_MS = 1_000;

const count = z.coerce.number().int().nonnegative().default(0);

export const runStateSchema = runConfigSchema.extend({
  v: z.coerce.number().int(),
  status: runStatusSchema,
  statusReason: z.string().optional(),
  scanned: z.enum(["0", "1"]).transform((v) => v === "1"),
  objects: count,
  images: count,
  skipped: count,
  done: count,
  failed: count,
  blocked: count,
  /** Incremental runs: objects an earlier run already annotated at the same ETag (not sent again). */
  unchanged: count,
  tokens_prompt: count,
  tokens_output: count,
  tokens_image: count,
  /** Images skipped because the budget could not cover them (also counted in `skipped`). */
  budget_skipped: count,
  /** Images done from the output's annotation cache, without a Gemini call (also counted in `done`). */
  cached: count,
  /** Images skipped because the run was cancelled before they were sent (also in `skipped`). */
  cancelled: count,
  /** Set when the run was stopped by Tessera itself (halt): why it ends as failed. */
  haltReason: z.string().optional(),
  cancelRequested: z
    .enum(["0", "1"])
    .optional()
    .transform((v) => v === "1"),
  /** Paused by an operator: workers put the run's jobs back (delayed) instead of sending them. */
  paused: z
    .enum(["0", "1"])
    .optional()
    .transform((v) => v === "1"),
  /** Tokens and micro-dollars reserved or spent against the budget (reservations settle to usage). */
  budget_tokens: count,
  budget_cost_micros: count,
  /** Actual cost of the tokens billed so far, in micro-dollars. */
  cost_micros: count,
  /** Estimate made at scan time from image headers, in tokens and micro-dollars. */
  estimate_tokens_prompt: count,
  estimate_tokens_output: count,
  estimate_cost_micros: count,
  /** The same estimate summed over the images done, to set beside what they were billed. */
  estimate_done_prompt: count,
  scannedAt: z.string().optional(),
  processedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type RunState = z.infer<typeof runStateSchema>;

const unusableSchema = z.object({
  prompt: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  image: z.number().int().nonnegative(),
  costMicros: z.number().int().nonnegative(),
  /** How many unusable answers these add up. */
  answers: z.number().int().positive(),
  /** Why the latest could not be read ("code: message"). */
  reason: z.string(),
});
/** Answers a unit was billed for that could not be read, not yet in its manifest line. */
export type Unusable = z.infer<typeof unusableSchema>;

// Shared by recordItem and markScanned: whichever sees the last outcome moves the run to
// "finalizing" exactly once and tells its caller to enqueue the finalize job.
const MAYBE_FINISH = `
local function maybeFinish(run, events, now, maxlen)
  local h = redis.call('HMGET', run, 'scanned', 'images', 'done', 'failed', 'blocked', 'status', 'budget_skipped', 'cancelled')
  local settled = tonumber(h[3]) + tonumber(h[4]) + tonumber(h[5]) + tonumber(h[7] or '0') + tonumber(h[8] or '0')
  if h[1] == '1' and (h[6] == 'running' or h[6] == 'cancelling') and settled >= tonumber(h[2]) then
    redis.call('HSET', run, 'status', 'finalizing', 'processedAt', now)
    redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', 'status', 'status', 'finalizing', 'at', now)
    return 1
  end
  return 0
end
`;

// KEYS: run, items, events, unusable. ARGV: key, line, status, prompt, output, image, now, maxlen,
// message, skip kind ("budget" or "cancelled": an image skipped, which settles it like an
// outcome; else an object that is not an image), cost, estimated prompt tokens of a done image,
// "1" when the image was done from the annotation cache, the unusable-answers field the caller
// folded into the line and cost ("" for none), now in ms, the progress-entry interval in ms.
// Returns -1 when the key already had an outcome (a retried or duplicated job); the current
// unusable-answers field (a string) when it is not the one the caller folded in; else 1 if this
// outcome completed the run, else 0.
const RECORD_ITEM = `${MAYBE_FINISH}
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
local unusable = redis.call('HGET', KEYS[4], ARGV[1]) or ''
if unusable ~= ARGV[14] then return unusable end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if unusable ~= '' then redis.call('HDEL', KEYS[4], ARGV[1]) end
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
if ARGV[3] == 'skipped' then
  if ARGV[10] == 'budget' then
    redis.call('HINCRBY', KEYS[1], 'budget_skipped', 1)
  elseif ARGV[10] == 'cancelled' then
    redis.call('HINCRBY', KEYS[1], 'cancelled', 1)
  else
    redis.call('HINCRBY', KEYS[1], 'objects', 1)
  end
elseif ARGV[3] == 'unchanged' then
  redis.call('HINCRBY', KEYS[1], 'objects', 1)
end
if ARGV[13] == '1' then redis.call('HINCRBY', KEYS[1], 'cached', 1) end
if tonumber(ARGV[11]) > 0 then redis.call('HINCRBY', KEYS[1], 'cost_micros', ARGV[11]) end
if tonumber(ARGV[12]) > 0 then redis.call('HINCRBY', KEYS[1], 'estimate_done_prompt', ARGV[12]) end
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[1], 'tokens_prompt', ARGV[4]) end
if tonumber(ARGV[5]) > 0 then redis.call('HINCRBY', KEYS[1], 'tokens_output', ARGV[5]) end
if tonumber(ARGV[6]) > 0 then redis.call('HINCRBY', KEYS[1], 'tokens_image', ARGV[6]) end
if ARGV[3] == 'failed' or ARGV[3] == 'blocked' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'type', 'item', 'status', ARGV[3], 'key', ARGV[1], 'message', ARGV[9], 'at', ARGV[7])
end
if tonumber(ARGV[15]) - tonumber(redis.call('HGET', KEYS[1], 'progressAt') or '0') >= tonumber(ARGV[16]) then
  redis.call('HSET', KEYS[1], 'progressAt', ARGV[15])
  local c = redis.call('HMGET', KEYS[1], 'images', 'done', 'failed', 'blocked', 'skipped', 'cached', 'tokens_prompt', 'tokens_output')
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'type', 'progress', 'images', c[1] or '0',
    'done', c[2] or '0', 'failed', c[3] or '0', 'blocked', c[4] or '0', 'skipped', c[5] or '0',
    'cached', c[6] or '0', 'tokens_prompt', c[7] or '0', 'tokens_output', c[8] or '0', 'at', ARGV[7])
end
return maybeFinish(KEYS[1], KEYS[3], ARGV[7], ARGV[8])
`;

// KEYS: unusable. ARGV: key, prompt, output, image, cost micros, reason. Adds one unusable
// answer's bill to the unit's field.
const ADD_UNUSABLE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local u = raw and cjson.decode(raw) or { prompt = 0, output = 0, image = 0, costMicros = 0, answers = 0 }
u.prompt = u.prompt + tonumber(ARGV[2])
u.output = u.output + tonumber(ARGV[3])
u.image = u.image + tonumber(ARGV[4])
u.costMicros = u.costMicros + tonumber(ARGV[5])
u.answers = u.answers + 1
u.reason = ARGV[6]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(u))
return u.answers
`;

// KEYS: run, budget fields. ARGV: tokens, cost micros. 1 when the budget covers the
// reservation (now held), 0 when it does not.
const RESERVE_BUDGET = `
local h = redis.call('HMGET', KEYS[1], 'budgetMaxTokens', 'budgetMaxCostMicros', 'budget_tokens', 'budget_cost_micros')
local tokens, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
if h[1] and tonumber(h[3] or '0') + tokens > tonumber(h[1]) then return 0 end
if h[2] and tonumber(h[4] or '0') + cost > tonumber(h[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'budget_tokens', tokens)
redis.call('HINCRBY', KEYS[1], 'budget_cost_micros', cost)
return 1
`;

// KEYS: run, events. ARGV: now, maxlen, halt reason ("" for a user's cancel). 1 cancelled, 2
// cancelled and nothing is in flight (the caller enqueues the finalize job), 0 already ended,
// -2 unknown run.
const CANCEL = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -2 end
if status ~= 'scanning' and status ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'cancelRequested', '1')
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'haltReason', ARGV[3]) end
if status == 'running' then redis.call('HSET', KEYS[1], 'status', 'cancelling') end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'type', 'status', 'status', 'cancelling', 'at', ARGV[1])
if status == 'running' then
  local h = redis.call('HMGET', KEYS[1], 'images', 'done', 'failed', 'blocked', 'budget_skipped', 'cancelled')
  local settled = 0
  for i = 2, 6 do settled = settled + tonumber(h[i] or '0') end
  if settled >= tonumber(h[1]) then
    redis.call('HSET', KEYS[1], 'status', 'finalizing', 'processedAt', ARGV[1])
    return 2
  end
end
return 1
`;

// KEYS: run, items, events. ARGV: key, now, maxlen. 1 when the failed outcome was removed.
const RESET_FAILED = `
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return 0 end
if cjson.decode(raw)['status'] ~= 'failed' then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'failed', -1)
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' or status == 'budget_exhausted' or status == 'finalizing' then
  redis.call('HSET', KEYS[1], 'status', 'running')
  redis.call('HDEL', KEYS[1], 'finishedAt', 'processedAt', 'statusReason')
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'type', 'status', 'status', 'running', 'reason', 'retry', 'at', ARGV[2])
end
return 1
`;

// KEYS: run, events. ARGV: images, objects, now, maxlen.
const MARK_SCANNED = `${MAYBE_FINISH}
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'scanning' and status ~= 'cancelling' then return -1 end
if status == 'scanning' then status = 'running' end
redis.call('HSET', KEYS[1], 'scanned', '1', 'images', ARGV[1], 'scannedAt', ARGV[3], 'status', status)
redis.call('HINCRBY', KEYS[1], 'objects', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'status', 'status', status, 'images', ARGV[1], 'at', ARGV[3])
return maybeFinish(KEYS[1], KEYS[2], ARGV[3], ARGV[4])
`;

/**
 * Redis hashes have no "unset": optional fields that are undefined are simply left out. Booleans
 * are stored as "true"/"false", which the config schema reads back.
 */
function definedFields(record: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === "string" || typeof value === "number") out[key] = value;
    // Booleans (keepFiles, cache): read back through the config schema, which takes "true"/"false".
    else if (typeof value === "boolean") out[key] = String(value);
  }
  return out;
}

export class RunNotFoundError extends Error {
  constructor(runId: string) {
    super(`no run "${runId}" in Redis (see \`tessera status\` for the known runs)`);
    this.name = "RunNotFoundError";
  }
}

/**
 * Run state in Redis: the contract that the CLI, workers and back-office dashboards share
 * (docs/redis.md). Counters change only inside Lua scripts, so they always agree with the
 * items hash that the manifest is written from.
 */
export class RunStore {
  readonly keys: Keys;
  readonly #redis: Redis;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.keys = redisKeys(prefix);
  }

  async create(config: RunConfig): Promise<void> {
    const key = this.keys.run(config.runId);
    const created = await this.#redis.hsetnx(key, "runId", config.runId);
    if (created === 0) throw new Error(`run ${config.runId} already exists`);
    await this.#redis
      .multi()
      .hset(key, {
        ...definedFields(runConfigSchema.parse(config)),
        v: REDIS_CONTRACT_VERSION,
        status: "scanning" satisfies RunStatus,
        scanned: "0",
        objects: 0,
        images: 0,
        skipped: 0,
        done: 0,
        failed: 0,
        blocked: 0,
        unchanged: 0,
        tokens_prompt: 0,
        tokens_output: 0,
        tokens_image: 0,
        budget_skipped: 0,
        cancelled: 0,
        cached: 0,
        budget_tokens: 0,
        budget_cost_micros: 0,
        cost_micros: 0,
      })
      .zadd(this.keys.runs, Date.parse(config.createdAt), config.runId)
      .xadd(
        this.keys.events(config.runId),
        "MAXLEN",
        "~",
        EVENTS_MAXLEN,
        "*",
        "type",
        "status",
        "status",
        "scanning",
        "at",
        config.createdAt,
      )
      .exec();
  }

  async get(runId: string): Promise<RunState | undefined> {
    const hash = await this.#redis.hgetall(this.keys.run(runId));
    if (Object.keys(hash).length === 0) return undefined;
    return runStateSchema.parse(hash);
  }

  async require(runId: string): Promise<RunState> {
    const run = await this.get(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  /** Newest first. */
  async list(limit = 20): Promise<string[]> {
    return this.#redis.zrevrange(this.keys.runs, 0, limit - 1);
  }

  /**
   * Records the final outcome of one source object. Returns "duplicate" when it already had one
   * (the first outcome wins; counters are untouched), "completed-run" when this was the last
   * outstanding image of a fully scanned run. Answers paid for but unusable (addUnusable) are
   * added to the line's tokens and the cost, and forgotten, in the same script.
   */
  async recordItem(
    runId: string,
    line: ManifestLine,
    extra: { costMicros?: number; estimatedPromptTokens?: number } = {},
  ): Promise<"recorded" | "duplicate" | "completed-run"> {
    const valid = manifestLineSchema.parse(line);
    // Most units never had an unusable answer: try without one, and learn it from the script if not.
    let unusable = "";
    for (;;) {
      const paid = unusable === "" ? undefined : unusableSchema.parse(JSON.parse(unusable));
      const folded: ManifestLine = paid
        ? {
            ...valid,
            tokens: {
              prompt: (valid.tokens?.prompt ?? 0) + paid.prompt,
              output: (valid.tokens?.output ?? 0) + paid.output,
              image: (valid.tokens?.image ?? 0) + paid.image,
            },
          }
        : valid;
      const result = (await this.#redis.eval(
        RECORD_ITEM,
        4,
        this.keys.run(runId),
        this.keys.items(runId),
        this.keys.events(runId),
        this.keys.unusable(runId),
        folded.key,
        JSON.stringify(folded),
        folded.status,
        folded.tokens?.prompt ?? 0,
        folded.tokens?.output ?? 0,
        folded.tokens?.image ?? 0,
        folded.at,
        EVENTS_MAXLEN,
        folded.error?.message ?? "",
        folded.status === "skipped" ? (folded.error?.class ?? "") : "",
        (extra.costMicros ?? 0) + (paid?.costMicros ?? 0),
        extra.estimatedPromptTokens ?? 0,
        folded.cached === true ? "1" : "0",
        unusable,
        Date.parse(folded.at),
        PROGRESS_EVERY_MS,
      )) as number | string;
      if (typeof result === "string") {
        unusable = result;
        continue;
      }
      if (result === -2) throw new RunNotFoundError(runId);
      return result === -1 ? "duplicate" : result === 1 ? "completed-run" : "recorded";
    }
  }

  /**
   * Keeps the bill of an answer for `key` that could not be read, until the unit's outcome is
   * recorded (which adds it to the line and the run). Returns how many such answers it now has.
   */
  async addUnusable(
    runId: string,
    key: string,
    paid: { prompt: number; output: number; image: number; costMicros: number; reason: string },
  ): Promise<number> {
    return (await this.#redis.eval(
      ADD_UNUSABLE,
      1,
      this.keys.unusable(runId),
      key,
      paid.prompt,
      paid.output,
      paid.image,
      paid.costMicros,
      paid.reason,
    )) as number;
  }

  /** Of these keys, those billed for unusable answers whose outcome is not recorded yet (one round trip). */
  async unusable(runId: string, keys: readonly string[]): Promise<Map<string, Unusable>> {
    const found = new Map<string, Unusable>();
    if (keys.length === 0) return found;
    const raws = await this.#redis.hmget(this.keys.unusable(runId), ...keys);
    for (const [i, raw] of raws.entries()) {
      if (raw !== null) found.set(keys[i]!, unusableSchema.parse(JSON.parse(raw)));
    }
    return found;
  }

  async itemOutcome(runId: string, key: string): Promise<ManifestLine | undefined> {
    const raw = await this.#redis.hget(this.keys.items(runId), key);
    return raw === null ? undefined : manifestLineSchema.parse(JSON.parse(raw));
  }

  /**
   * Holds `tokens` and `costMicros` of the run's budget for one request. False when they would
   * take the run past its budget (the image is then skipped); true when held or unbudgeted.
   */
  async reserveBudget(runId: string, tokens: number, costMicros: number): Promise<boolean> {
    const result = (await this.#redis.eval(
      RESERVE_BUDGET,
      1,
      this.keys.run(runId),
      tokens,
      costMicros,
    )) as number;
    return result === 1;
  }

  /** Replaces a reservation with what was billed (0 and 0 when the call billed nothing). */
  async settleBudget(
    runId: string,
    reserved: { tokens: number; costMicros: number },
    actual: { tokens: number; costMicros: number },
  ): Promise<void> {
    await this.#redis
      .multi()
      .hincrby(this.keys.run(runId), "budget_tokens", actual.tokens - reserved.tokens)
      .hincrby(this.keys.run(runId), "budget_cost_micros", actual.costMicros - reserved.costMicros)
      .exec();
  }

  /** Adds parse problems (fences, repaired boxes, missing masks...) to the run's `warn:<code>` counters. */
  async addWarningCounts(
    runId: string,
    counters: Readonly<Record<string, number | undefined>>,
  ): Promise<void> {
    const entries = Object.entries(counters).filter((e): e is [string, number] => (e[1] ?? 0) > 0);
    if (entries.length === 0) return;
    const multi = this.#redis.multi();
    for (const [code, n] of entries) multi.hincrby(this.keys.run(runId), `warn:${code}`, n);
    await multi.exec();
  }

  /** The scan-time estimate, shown beside the actual figures. */
  async setEstimate(
    runId: string,
    estimate: { prompt: number; output: number; costMicros: number },
  ): Promise<void> {
    await this.#redis.hset(this.keys.run(runId), {
      estimate_tokens_prompt: estimate.prompt,
      estimate_tokens_output: estimate.output,
      estimate_cost_micros: estimate.costMicros,
    });
  }

  /**
   * Asks a run to stop: queued images are skipped as cancelled, in-flight requests settle, and
   * the run finalizes with status "cancelled".
   */
  async cancel(
    runId: string,
    now = new Date(),
    haltReason = "",
  ): Promise<"cancelling" | "finalize" | "already-ended"> {
    const result = (await this.#redis.eval(
      CANCEL,
      2,
      this.keys.run(runId),
      this.keys.events(runId),
      now.toISOString(),
      EVENTS_MAXLEN,
      haltReason,
    )) as number;
    if (result === -2) throw new RunNotFoundError(runId);
    return result === 2 ? "finalize" : result === 1 ? "cancelling" : "already-ended";
  }

  /**
   * Pauses or resumes a run: while paused, workers delay its jobs instead of sending them, so
   * nothing is spent; status and counters are untouched. Unknown runs throw RunNotFoundError.
   */
  async setPaused(runId: string, paused: boolean, now = new Date()): Promise<void> {
    if ((await this.#redis.exists(this.keys.run(runId))) === 0) throw new RunNotFoundError(runId);
    const flag = paused ? "1" : "0";
    await this.#updateAndLog(runId, { paused: flag }, [
      "type",
      "paused",
      "paused",
      flag,
      "at",
      now.toISOString(),
    ]);
  }

  /** Paused and not cancelled: a cancel wins, so a paused run's queued images settle as cancelled. */
  async isPaused(runId: string): Promise<boolean> {
    const [paused, cancel] = await this.#redis.hmget(this.keys.run(runId), "paused", "cancelRequested");
    return paused === "1" && cancel !== "1";
  }

  /**
   * Stops a run that cannot go on (its output can no longer be written): like cancel, queued
   * images are not sent, and the run ends "failed" with this reason instead of "cancelled".
   */
  async halt(
    runId: string,
    reason: string,
    now = new Date(),
  ): Promise<"cancelling" | "finalize" | "already-ended"> {
    return this.cancel(runId, now, reason);
  }

  /**
   * Forgets the outcome of these failed images so they can be sent again, and reopens the run.
   * Only items whose outcome is "failed" are touched. Returns the keys that were reset.
   */
  async resetFailed(runId: string, keys: string[], now = new Date()): Promise<string[]> {
    const reset: string[] = [];
    for (const key of keys) {
      const done = (await this.#redis.eval(
        RESET_FAILED,
        3,
        this.keys.run(runId),
        this.keys.items(runId),
        this.keys.events(runId),
        key,
        now.toISOString(),
        EVENTS_MAXLEN,
      )) as number;
      if (done === 1) reset.push(key);
    }
    return reset;
  }

  /** Called once listing has finished; `objects` counts the images enqueued (skips count themselves). */
  async markScanned(runId: string, images: number, now = new Date()): Promise<"running" | "completed-run"> {
    const result = (await this.#redis.eval(
      MARK_SCANNED,
      2,
      this.keys.run(runId),
      this.keys.events(runId),
      images,
      images,
      now.toISOString(),
      EVENTS_MAXLEN,
    )) as number;
    if (result === -1) throw new Error(`run ${runId} is not scanning`);
    return result === 1 ? "completed-run" : "running";
  }

  async setStatus(runId: string, status: RunStatus, reason?: string, now = new Date()): Promise<void> {
    const at = now.toISOString();
    const fields: Record<string, string> = { status };
    if (reason !== undefined) fields.statusReason = reason;
    if (
      status === "completed" ||
      status === "budget_exhausted" ||
      status === "failed" ||
      status === "cancelled"
    ) {
      fields.finishedAt = at;
    }
    await this.#updateAndLog(runId, fields, [
      "type",
      "status",
      "status",
      status,
      "at",
      at,
      ...(reason ? ["reason", reason] : []),
    ]);
  }

  /** Sets run fields and appends an entry to the run's capped event stream, in one transaction. */
  async #updateAndLog(runId: string, fields: Record<string, string>, event: string[]): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.keys.run(runId), fields)
      .xadd(this.keys.events(runId), "MAXLEN", "~", EVENTS_MAXLEN, "*", ...event)
      .exec();
  }

  /** The latest failed or blocked images, newest first, from the capped event stream. */
  async recentFailures(
    runId: string,
    count = 5,
  ): Promise<{ key: string; status: string; message: string }[]> {
    const entries = await this.#redis.xrevrange(this.keys.events(runId), "+", "-", "COUNT", 200);
    const failures: { key: string; status: string; message: string }[] = [];
    for (const [, flat] of entries) {
      const fields = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
      if (fields.get("type") !== "item") continue;
      failures.push({
        key: fields.get("key") ?? "",
        status: fields.get("status") ?? "",
        message: fields.get("message") ?? "",
      });
      if (failures.length >= count) break;
    }
    return failures;
  }

  /** Every recorded outcome, streamed in pages so a million-line manifest never sits in one reply. */
  async *items(runId: string): AsyncGenerator<ManifestLine> {
    let cursor = "0";
    do {
      const [next, flat] = await this.#redis.hscan(this.keys.items(runId), cursor, "COUNT", 1000);
      cursor = next;
      for (let i = 1; i < flat.length; i += 2) yield manifestLineSchema.parse(JSON.parse(flat[i]!));
    } while (cursor !== "0");
  }
}
