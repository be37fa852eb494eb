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
  imagesPerRequest: z.number().int().positive().default(1),
  budget: z
    .object({
      maxTokens: z.number().int().positive().optional(),
      maxCostUsd: z.number().positive().optional(),
    })
    .optional(),
});
export type ScheduledRequest = z.infer<typeof scheduledRequestSchema>;

export type FiringOutcome =
  | { kind: "started"; run: RunStarted }
  | { kind: "skipped"; reason: string }
  | { kind: "duplicate"; runId: string }
  | { kind: "failed"; runId: string; reason: string };

/**
 * One firing of a schedule: starts an incremental run (images unchanged since the last
 * successful run with the same task configuration are not sent again). The run id comes from
 * the firing time, so a firing delivered twice starts one run. A firing while the schedule's
 * previous run is still going (or being started by another scheduler) starts nothing, atomically
 * (ScheduleStore.claimFiring), and says so in the schedule's `lastSkipReason`.
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

  const claim = await deps.schedules.claimFiring(scheduleId, runId, firedAt, deps.now());
  if (claim.busy !== undefined) {
    const previous = await deps.runs.get(claim.busy);
    const reason = `the previous run ${claim.busy} is still ${previous?.status ?? "starting"}`;
    await deps.schedules.recordSkip(scheduleId, firedAt, reason);
    log.warn("scheduled firing started no run", { reason });
    return { kind: "skipped", reason };
  }
  // Claimed: from here, a firing that starts nothing gives its claim back.
  const skip = async (reason: string): Promise<FiringOutcome> => {
    await deps.schedules.recordSkip(scheduleId, firedAt, reason, runId);
    log.warn("scheduled firing started no run", { reason });
    return { kind: "skipped", reason };
  };
  const parsed = scheduledRequestSchema.safeParse(JSON.parse(schedule.request));
  if (!parsed.success) return skip(`stored run options do not parse: ${z.prettifyError(parsed.error)}`);
  const request = parsed.data;
  // The claimed run is in the history already: it is not its own baseline.
  const candidates = (await deps.schedules.history(scheduleId, 101)).filter((id) => id !== runId);
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
      imagesPerRequest: request.imagesPerRequest,
      prices: deps.prices,
      ...(request.budget === undefined ? {} : { budget: request.budget }),
      runId,
      scheduleId,
      baselineCandidates: candidates,
    });
  } catch (err) {
    // A scan that failed has failed its run, which says why; anything earlier started nothing.
    if (await deps.runs.get(runId)) return { kind: "failed", runId, reason: errorMessage(err) };
    return skip(`could not start: ${errorMessage(err)}`);
  }
  log.info("scheduled run started", { runId, images: started.images, unchanged: started.unchanged ?? 0 });
  return { kind: "started", run: started };
}
