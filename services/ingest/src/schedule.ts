import { z } from "zod";
import { errorMessage, taskSchema } from "@tessera/core";
import type { ModelPrice } from "@tessera/config";
import { scheduledRunId, type ScheduleStore } from "@tessera/queue";
import type { IngestDeps } from "./deps.ts";
import { startRun, type RunStarted } from "./start-run.ts";

/** The run options a schedule stores (JSON in its hash) and every firing uses. */
export const scheduledRequestSchema = z.object({
  task: taskSchema,
  taskOptions: z.unknown().optional(),
  model: z.string().min(1),
  maxOutputTokens: z.number().int().positive(),
  detail: z.enum(["low", "standard", "original"]),
  convert: z.enum(["convert", "skip"]),
  transport: z.enum(["auto", "inline", "files", "url"]).default("auto"),
  budget: z
    .object({
      maxTokens: z.number().int().positive().optional(),
      maxCostUsd: z.number().positive().optional(),
    })
    .optional(),
});
export type ScheduledRequest = z.infer<typeof scheduledRequestSchema>;

const ACTIVE = new Set(["scanning", "running", "cancelling", "finalizing"]);

export type FiringOutcome =
  | { kind: "started"; run: RunStarted }
  | { kind: "skipped"; reason: string }
  | { kind: "duplicate"; runId: string }
  | { kind: "failed"; runId: string; reason: string };

/**
 * One firing of a schedule: starts an incremental run (images unchanged since the last
 * successful run with the same task configuration are not sent again). The run id comes from
 * the firing time, so a firing delivered twice starts one run. A firing while the schedule's
 * previous run is still going starts nothing (runs of one schedule never overlap) and says so in
 * the schedule's `lastSkipReason`.
 */
export async function fireSchedule(
  deps: IngestDeps & { schedules: ScheduleStore; prices: Readonly<Record<string, ModelPrice>> },
  scheduleId: string,
  firedAt: Date,
): Promise<FiringOutcome> {
  const log = deps.log.child({ scheduleId });
  const schedule = await deps.schedules.get(scheduleId);
  if (!schedule) return { kind: "skipped", reason: "the schedule was removed" };
  if (schedule.paused) return { kind: "skipped", reason: "the schedule is paused" };
  const runId = scheduledRunId(scheduleId, firedAt.getTime());
  if (await deps.runs.get(runId)) return { kind: "duplicate", runId };

  const skip = async (reason: string): Promise<FiringOutcome> => {
    await deps.schedules.recordFiring(scheduleId, firedAt, { skipped: reason });
    log.warn("scheduled firing started no run", { reason });
    return { kind: "skipped", reason };
  };
  if (schedule.lastRunId !== undefined) {
    const previous = await deps.runs.get(schedule.lastRunId);
    if (previous && ACTIVE.has(previous.status)) {
      return skip(`the previous run ${schedule.lastRunId} is still ${previous.status}`);
    }
  }
  const parsed = scheduledRequestSchema.safeParse(JSON.parse(schedule.request));
  if (!parsed.success) return skip(`stored run options do not parse: ${z.prettifyError(parsed.error)}`);
  const request = parsed.data;
  const candidates = await deps.schedules.history(scheduleId, 100);
  let started: RunStarted;
  try {
    started = await startRun(deps, {
      source: schedule.source,
      out: schedule.out,
      task: request.task,
      taskOptions: request.taskOptions,
      model: request.model,
      maxOutputTokens: request.maxOutputTokens,
      detail: request.detail,
      convert: request.convert,
      transport: request.transport,
      prices: deps.prices,
      ...(request.budget === undefined ? {} : { budget: request.budget }),
      runId,
      scheduleId,
      baselineCandidates: candidates,
      // Recorded as soon as the run exists, before the (long) scan, so the history shows it.
      onCreated: () => deps.schedules.recordFiring(scheduleId, firedAt, { runId }),
    });
  } catch (err) {
    // A scan that failed has failed its run, which says why; anything earlier started nothing.
    if (await deps.runs.get(runId)) return { kind: "failed", runId, reason: errorMessage(err) };
    return skip(`could not start: ${errorMessage(err)}`);
  }
  log.info("scheduled run started", { runId, images: started.images, unchanged: started.unchanged ?? 0 });
  return { kind: "started", run: started };
}
