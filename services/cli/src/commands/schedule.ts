import type { Command } from "commander";
import { UsageError } from "@tessera/core";
import {
  checkScheduleId,
  checkTimeZone,
  nextFirings,
  ScheduleStore,
  type ScheduleState,
} from "@tessera/queue";
import { storageCache } from "@tessera/storage";
import { randomBytes } from "node:crypto";
import { configFrom, openContext, type CommonFlags, type Context } from "../context.ts";
import { addRunOptions, runOptionEnv, runOptionsFrom, type RunOptionFlags } from "../run-options.ts";

interface AddFlags extends CommonFlags, RunOptionFlags {
  out?: string;
  cron?: string;
  tz?: string;
  id?: string;
  json?: boolean;
}

interface ListFlags extends CommonFlags {
  json?: boolean;
}

async function withSchedules<T>(
  flags: CommonFlags,
  body: (store: ScheduleStore, ctx: Context) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(configFrom({ ...flags, logLevel: flags.logLevel ?? "warn" }), "client");
  try {
    return await body(
      new ScheduleStore(ctx.redis, ctx.config.env.TESSERA_PREFIX, ctx.producer.queue("schedules")),
      ctx,
    );
  } finally {
    await ctx.close();
  }
}

function describeSchedule(s: ScheduleState, next: Date | undefined): string {
  const state = s.paused ? "paused" : `next ${next?.toISOString() ?? "?"}`;
  const last = s.lastRunId ? `last run ${s.lastRunId}` : "never fired";
  const skip = s.lastSkipReason ? ` (last firing skipped: ${s.lastSkipReason})` : "";
  return `${s.id}\t${s.cron}${s.tz ? ` ${s.tz}` : ""}\t${s.task}\t${s.source} -> ${s.out}\t${state}\t${last}${skip}`;
}

/** `tessera schedule add|list|remove|pause|resume`: incremental runs fired by BullMQ job schedulers. */
export function registerSchedule(program: Command, common: (cmd: Command) => Command): void {
  const schedule = program
    .command("schedule")
    .description("run a location on a cron schedule; each firing annotates only new or changed images");

  common(
    addRunOptions(
      schedule
        .command("add")
        .description("add a schedule (fired by `tessera scheduler` processes)")
        .argument("<source>", "where the images are: s3://bucket/prefix or file:///absolute/dir")
        .option("--out <uri>", "where annotations go (every firing writes a run there)")
        .option("--cron <pattern>", 'when: 5 cron fields, or 6 with seconds first (e.g. "0 3 * * *")')
        .option("--tz <zone>", "IANA time zone of the pattern (default UTC)")
        .option("--id <id>", "the schedule's name (default: generated)")
        .option("--json", "print machine-readable output"),
    ),
  ).action(async (source: string, flags: AddFlags) => {
    if (flags.out === undefined) throw new UsageError("missing option --out <uri>");
    if (flags.cron === undefined) throw new UsageError('missing option --cron "<pattern>"');
    const tz = flags.tz === undefined ? undefined : checkTimeZone(flags.tz);
    const next = nextFirings(flags.cron, { ...(tz === undefined ? {} : { tz }), count: 3 });
    const id = checkScheduleId(flags.id ?? `s-${randomBytes(3).toString("hex")}`);
    const config = configFrom({ ...flags, logLevel: flags.logLevel ?? "warn" }, runOptionEnv(flags));
    const request = runOptionsFrom(flags, config);
    // Wrong locations are refused now rather than at 3 a.m.
    const storage = storageCache(config.s3, config.urls);
    await storage(source).checkAccess();
    await storage(flags.out).checkAccess({ write: true });
    await withSchedules(flags, async (store) => {
      await store.add({
        id,
        source,
        out: flags.out!,
        cron: flags.cron!,
        ...(tz === undefined ? {} : { tz }),
        task: request.task,
        request: JSON.stringify(request),
        createdAt: new Date().toISOString(),
      });
    });
    console.log(
      flags.json
        ? JSON.stringify({ id, next: next.map((d) => d.toISOString()) })
        : `schedule ${id} added; next firings ${next.map((d) => d.toISOString()).join(", ")}`,
    );
  });

  common(
    schedule.command("list").description("list schedules").option("--json", "print machine-readable output"),
  ).action(async (flags: ListFlags) => {
    await withSchedules(flags, async (store) => {
      const all = await store.list();
      const rows = await Promise.all(all.map(async (s) => ({ ...s, next: await store.nextFiring(s.id) })));
      if (flags.json) console.log(JSON.stringify(rows));
      else if (rows.length === 0) console.log("no schedules");
      else for (const row of rows) console.log(describeSchedule(row, row.next));
    });
  });

  for (const [name, description] of [
    ["remove", "stop a schedule and forget it (its runs stay)"],
    ["pause", "stop firing a schedule until it is resumed"],
    ["resume", "fire a paused schedule again"],
  ] as const) {
    common(schedule.command(name).description(description).argument("<id>", "the schedule")).action(
      async (id: string, flags: CommonFlags) => {
        await withSchedules(flags, async (store) => {
          await store[name](id);
        });
        console.log(
          `schedule ${id}: ${name === "remove" ? "removed" : name === "pause" ? "paused" : "resumed"}`,
        );
      },
    );
  }
}
