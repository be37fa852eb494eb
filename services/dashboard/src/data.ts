import type { Redis } from "ioredis";
import { UsageError, type ManifestLine } from "@tessera/core";
import { retryFailed } from "@tessera/ingest";
import type { Producer } from "@tessera/queue";
import { enqueueFinalize, QUEUE_NAMES, RunStore, ScheduleStore, type QueueName } from "@tessera/queue";
import type { Storage } from "@tessera/storage";
import { runFiles, SPATIAL_TASKS } from "@tessera/worker";
import type { Logger } from "@tessera/core";
import {
  digestItems,
  runView,
  scheduleView,
  type ItemsDigest,
  type RunView,
  type ScheduleView,
} from "./views.ts";

/** Outcomes read per run page at most: enough for charts and examples, bounded for huge runs. */
const MAX_ITEMS_READ = 50_000;
/** Viewers of one run share a digest this long, so open pages do not each rescan its outcomes. */
const DIGEST_TTL_MS = 3_000;

export interface EventView {
  id: string;
  type: string;
  fields: Record<string, string>;
}

export interface DashboardDeps {
  redis: Redis;
  prefix: string;
  producer: Producer;
  storage: (uri: string) => Storage;
  log: Logger;
  now: () => Date;
}

/**
 * Everything the dashboard shows, read from the Redis contract (docs/redis.md) and the run's
 * output location, plus the few actions it may take. The JSON API returns these values as is.
 */
/** Entries people read (status changes, failures, pauses); progress ticks are for programs following counters. */
export const isNotable = (event: EventView): boolean => event.type !== "progress";

export class DashboardData {
  readonly runs: RunStore;
  readonly schedules: ScheduleStore;
  readonly #deps: DashboardDeps;
  readonly #digests = new Map<string, { at: number; digest: Promise<ItemsDigest> }>();

  constructor(deps: DashboardDeps) {
    this.#deps = deps;
    this.runs = new RunStore(deps.redis, deps.prefix);
    this.schedules = new ScheduleStore(deps.redis, deps.prefix, deps.producer.queue("schedules"));
  }

  async listRuns(limit = 50): Promise<RunView[]> {
    const ids = await this.runs.list(limit);
    const states = await Promise.all(ids.map((id) => this.runs.get(id)));
    const now = this.#deps.now();
    return states.filter((s) => s !== undefined).map((s) => ({ ...runView(s, now), paused: s.paused }));
  }

  async run(
    runId: string,
  ): Promise<(RunView & { paused: boolean; prompt: string; previews: boolean }) | undefined> {
    const state = await this.runs.get(runId);
    if (!state) return undefined;
    return {
      ...runView(state, this.#deps.now()),
      paused: state.paused,
      prompt: state.prompt,
      previews: SPATIAL_TASKS.has(state.task),
    };
  }

  /** Throughput, errors by class and gallery candidates, from the run's recorded outcomes. */
  digest(runId: string): Promise<ItemsDigest> {
    const now = Date.now();
    for (const [id, cached] of this.#digests) if (now - cached.at > DIGEST_TTL_MS) this.#digests.delete(id);
    const cached = this.#digests.get(runId);
    if (cached) return cached.digest;
    const digest = this.#readDigest(runId);
    this.#digests.set(runId, { at: now, digest });
    digest.catch(() => this.#digests.delete(runId));
    return digest;
  }

  async #readDigest(runId: string): Promise<ItemsDigest> {
    await this.runs.require(runId);
    const lines: ManifestLine[] = [];
    let truncated = false;
    for await (const line of this.runs.items(runId)) {
      if (lines.length >= MAX_ITEMS_READ) {
        truncated = true;
        break;
      }
      lines.push(line);
    }
    return digestItems(lines, { truncated });
  }

  /** The run's event stream (status changes, failures), newest first, or after `afterId` oldest first. */
  async events(runId: string, options: { count?: number; afterId?: string } = {}): Promise<EventView[]> {
    const key = this.runs.keys.events(runId);
    const raw =
      options.afterId === undefined
        ? await this.#deps.redis.xrevrange(key, "+", "-", "COUNT", options.count ?? 50)
        : await this.#deps.redis.xrange(key, `(${options.afterId}`, "+", "COUNT", options.count ?? 200);
    return raw.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return { id, type: fields.type ?? "", fields };
    });
  }

  /** A preview PNG of a detect or segment run, only for an image the run annotated. */
  async preview(runId: string, key: string): Promise<Buffer | undefined> {
    const run = await this.runs.get(runId);
    if (!run || !SPATIAL_TASKS.has(run.task)) return undefined;
    const outcome = await this.runs.itemOutcome(runId, key);
    if (outcome?.status !== "done") return undefined;
    try {
      return await this.#deps.storage(run.out).get(runFiles.preview(runId, key));
    } catch (err) {
      this.#deps.log.warn("preview not readable", { runId, key, error: String(err) });
      return undefined;
    }
  }

  async listSchedules(): Promise<ScheduleView[]> {
    const all = await this.schedules.list();
    return Promise.all(all.map((s) => this.schedule(s.id))).then((v) => v.filter((s) => s !== undefined));
  }

  async schedule(id: string): Promise<ScheduleView | undefined> {
    const state = await this.schedules.get(id);
    if (!state) return undefined;
    const history = await this.schedules.history(id, 20);
    const now = this.#deps.now();
    const runs = (await Promise.all(history.map((runId) => this.runs.get(runId)))).filter(
      (r) => r !== undefined,
    );
    return scheduleView(
      state,
      state.paused ? undefined : await this.schedules.nextFiring(id),
      runs.map((r) => runView(r, now)),
    );
  }

  async queueDepths(): Promise<Record<QueueName, Record<string, number>>> {
    const out = {} as Record<QueueName, Record<string, number>>;
    for (const name of QUEUE_NAMES) {
      out[name] = await this.#deps.producer
        .queue(name)
        .getJobCounts("waiting", "active", "delayed", "failed", "completed", "paused", "prioritized");
    }
    return out;
  }

  // Actions (POST, behind the token, CSRF-checked, only with TESSERA_DASHBOARD_ACTIONS).

  async cancel(runId: string): Promise<string> {
    const result = await this.runs.cancel(runId);
    if (result === "finalize") await enqueueFinalize(this.runs, this.#deps.producer, runId);
    return result;
  }

  async pause(runId: string, paused: boolean): Promise<void> {
    const run = await this.runs.require(runId);
    if (paused && !["scanning", "running"].includes(run.status)) {
      throw new UsageError(`run ${runId} is ${run.status}: only a running run can be paused`);
    }
    await this.runs.setPaused(runId, paused);
  }

  async retry(runId: string): Promise<number> {
    const { retried } = await retryFailed(
      {
        runs: this.runs,
        producer: this.#deps.producer,
        storage: this.#deps.storage,
        log: this.#deps.log,
        now: this.#deps.now,
      },
      runId,
    );
    return retried;
  }

  async pauseSchedule(id: string, paused: boolean): Promise<void> {
    if (paused) await this.schedules.pause(id);
    else await this.schedules.resume(id);
  }
}
