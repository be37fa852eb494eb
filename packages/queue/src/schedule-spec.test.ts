import { describe, expect, it } from "vitest";
import { UsageError } from "@tessera/core";
import { checkScheduleId, checkTimeZone, nextFirings, scheduledRunId } from "./schedule-spec.ts";

describe("schedule specs", () => {
  it("accepts 5-field and 6-field (seconds) cron patterns and gives the next firings", () => {
    const from = new Date("2026-12-04T10:00:00.000Z");
    expect(nextFirings("0 3 * * *", { from, tz: "UTC" })[0]?.toISOString()).toBe("2026-12-05T03:00:00.000Z");
    expect(nextFirings("* * * * * *", { from, count: 2 }).map((d) => d.toISOString())).toEqual([
      "2026-12-04T10:00:01.000Z",
      "2026-12-04T10:00:02.000Z",
    ]);
  });

  it("fires at the local time of the zone", () => {
    const from = new Date("2026-12-04T10:00:00.000Z");
    // 03:00 in Paris is 02:00 UTC in winter.
    expect(nextFirings("0 3 * * *", { from, tz: "Europe/Paris" })[0]?.toISOString()).toBe(
      "2026-12-05T02:00:00.000Z",
    );
  });

  it("refuses bad patterns, zones and ids with a message naming them", () => {
    expect(() => nextFirings("every day")).toThrow(/--cron "every day": expected 5 fields/);
    expect(() => nextFirings("61 * * * *")).toThrow(UsageError);
    expect(() => checkTimeZone("Mars/Olympus")).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(checkTimeZone("Europe/Paris")).toBe("Europe/Paris");
    expect(() => checkScheduleId("Nightly:1")).toThrow(/schedule id "Nightly:1"/);
    expect(checkScheduleId("nightly-1")).toBe("nightly-1");
  });

  it("derives one run id per firing, valid as a run id", () => {
    const id = scheduledRunId("nightly", Date.parse("2026-12-04T03:00:01.250Z"));
    expect(id).toBe("20261204-030001250Z-nightly");
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(scheduledRunId("nightly", Date.parse("2026-12-04T03:00:02Z"))).not.toBe(id);
  });
});
