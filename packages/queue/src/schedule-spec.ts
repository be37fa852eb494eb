import cronParser from "cron-parser";
import { UsageError } from "@tessera/core";

export const SCHEDULE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Checks a schedule id: it names Redis keys and BullMQ job ids, so it stays short and plain. */
export function checkScheduleId(id: string): string {
  if (!SCHEDULE_ID.test(id)) {
    throw new UsageError(
      `schedule id "${id}": use 1-32 lower-case letters, digits and dashes, starting with a letter or digit`,
    );
  }
  return id;
}

/** An IANA time zone the runtime knows, or a usage error naming it. */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    throw new UsageError(`--tz: unknown time zone "${tz}" (use an IANA name such as Europe/Paris or UTC)`);
  }
}

/**
 * Parses a cron pattern the way BullMQ's job schedulers will (cron-parser: 5 fields, or 6 with
 * seconds first) and returns its next firings, so a bad pattern is refused before anything is
 * stored and `schedule add` can say when it will fire.
 */
export function nextFirings(
  pattern: string,
  options: { tz?: string; from?: Date; count?: number } = {},
): Date[] {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) {
    throw new UsageError(
      `--cron "${pattern}": expected 5 fields (minute hour day month weekday) or 6 (seconds first)`,
    );
  }
  try {
    const interval = cronParser.parseExpression(pattern, {
      currentDate: options.from ?? new Date(),
      ...(options.tz === undefined ? {} : { tz: options.tz }),
    });
    const out: Date[] = [];
    for (let i = 0; i < (options.count ?? 3); i++) out.push(interval.next().toDate());
    return out;
  } catch (err) {
    throw new UsageError(`--cron "${pattern}": ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The run id of one firing: derived from the schedule and the firing time, so a firing delivered
 * twice can only ever create one run.
 */
export function scheduledRunId(scheduleId: string, firedAtMs: number): string {
  const stamp = new Date(firedAtMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d+)Z$/, "$1Z")
    .replace("T", "-");
  return `${stamp}-${scheduleId}`;
}
