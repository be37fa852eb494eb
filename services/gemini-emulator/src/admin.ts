// The operator's side door, under /_emulator/ (outside the API's /v1 paths so no SDK call can
// reach it): read the counters, change faults and limits while running, move the clock, reset.
// No key is asked: the emulator listens on loopback by default, and anyone who can reach it can
// already spend its (fake) quota.
import type { IncomingMessage, ServerResponse } from "node:http";
import { EmulatorApiError, invalidArgument } from "./errors.ts";
import type { FaultInjector, FaultRates, FaultSettings } from "./faults.ts";
import { FAULT_NAMES, isFaultName } from "./faults.ts";
import type { EmulatorClock } from "./files/clock.ts";
import type { RateLimitOptions, RateLimiter } from "./rate-limit.ts";
import type { EmulatorStats, OperationStats } from "./stats.ts";

export const ADMIN_PREFIX = "/_emulator/";

/** Read through these so the admin API does not depend on how the stores are built. */
export interface StoreStatsSources {
  files?: () => { count: number; bytes: number };
  batches?: () => { count: number; byState?: Record<string, number> };
}

export interface AdminContext {
  stats: EmulatorStats;
  operations: OperationStats;
  faults: FaultInjector;
  limiter: RateLimiter;
  clock: EmulatorClock;
  models: readonly string[];
  stores: StoreStatsSources;
  /** Counters, forced faults and rate-limit usage back to zero; settings stay. */
  reset(): void;
}

export interface AdminSnapshot extends EmulatorStats, OperationStats {
  rateLimitUsage: ReturnType<RateLimiter["usage"]>;
  files: { count: number; bytes: number } | null;
  batches: { count: number; byState?: Record<string, number> } | null;
  clock: { now: string; nowMs: number };
}

const MAX_BODY_BYTES = 1024 * 1024;

export function adminSnapshot(context: AdminContext): AdminSnapshot {
  const nowMs = context.clock.now();
  return {
    ...structuredClone(context.stats),
    ...structuredClone(context.operations),
    rateLimitUsage: context.limiter.usage(),
    files: context.stores.files?.() ?? null,
    batches: context.stores.batches?.() ?? null,
    clock: { now: new Date(nowMs).toISOString(), nowMs },
  };
}

export async function handleAdmin(
  context: AdminContext,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  try {
    const body = req.method === "POST" ? await readJson(req) : undefined;
    send(res, 200, answer(context, `${req.method ?? "?"} ${pathname.slice(ADMIN_PREFIX.length)}`, body));
  } catch (thrown) {
    const error =
      thrown instanceof EmulatorApiError
        ? thrown
        : // Settings are validated by the injector and the limiter, which throw RangeError.
          invalidArgument(thrown instanceof Error ? thrown.message : String(thrown));
    send(res, error.code, error.body);
  }
}

function answer(context: AdminContext, route: string, body: Record<string, unknown> | undefined): unknown {
  switch (route) {
    case "GET stats":
      return adminSnapshot(context);
    case "GET faults":
      return faultsView(context);
    case "POST faults":
      updateFaults(context.faults, body ?? {});
      return faultsView(context);
    case "GET limits":
      return limitsView(context);
    case "POST limits":
      updateLimits(context, body ?? {});
      return limitsView(context);
    case "GET clock":
      return clockView(context);
    case "POST clock":
      advanceClock(context.clock, body ?? {});
      return clockView(context);
    case "POST reset":
      context.reset();
      return { reset: true };
    default:
      throw new EmulatorApiError(
        404,
        `No admin endpoint ${route.replace(" ", ` ${ADMIN_PREFIX}`)}: GET stats, GET|POST faults, ` +
          "GET|POST limits, GET|POST clock, POST reset (see docs/emulator.md).",
      );
  }
}

function faultsView(context: AdminContext): { settings: FaultSettings; pending: number } {
  return { settings: context.faults.settings, pending: context.faults.pending };
}

function limitsView(context: AdminContext): { limits: RateLimitOptions; effective: Record<string, unknown> } {
  return {
    limits: context.limiter.options,
    effective: Object.fromEntries(context.models.map((model) => [model, context.limiter.limitsFor(model)])),
  };
}

function clockView(context: AdminContext): { now: string; nowMs: number } {
  const nowMs = context.clock.now();
  return { now: new Date(nowMs).toISOString(), nowMs };
}

const FAULT_FIELDS = ["rates", "burst429", "truncateTokens", "retryDelaySeconds"] as const;

/**
 * Field by field: a field present replaces the current one, `null` removes it, an absent one stays.
 * `next` queues forced faults ({fault, count} or a list of them); `clearNext` drops queued ones.
 */
function updateFaults(faults: FaultInjector, body: Record<string, unknown>): void {
  known(body, [...FAULT_FIELDS, "latencyMs", "seed", "next", "clearNext"]);
  const current = faults.settings;
  const rates: FaultRates = { ...current.faults };
  for (const field of FAULT_FIELDS) {
    if (!Object.hasOwn(body, field)) continue;
    const value = body[field];
    if (value === null) delete rates[field];
    else (rates as Record<string, unknown>)[field] = value;
  }
  const next: FaultSettings = { ...current, faults: rates };
  for (const field of ["latencyMs", "seed"] as const) {
    if (!Object.hasOwn(body, field)) continue;
    const value = body[field];
    if (value === null) delete next[field];
    else (next as Record<string, unknown>)[field] = value;
  }
  faults.reconfigure(next);
  if (body.clearNext === true) faults.clearForced();
  if (body.next !== undefined) {
    const queued = Array.isArray(body.next) ? (body.next as unknown[]) : [body.next];
    for (const entry of queued) {
      if (typeof entry !== "object" || entry === null)
        throw invalidArgument("next entries are {fault, count}");
      const { fault, count = 1 } = entry as { fault?: unknown; count?: unknown };
      const name = String(fault);
      if (!isFaultName(name))
        throw invalidArgument(`next.fault: unknown fault ${name}; known: ${FAULT_NAMES.join(", ")}`);
      if (typeof count !== "number")
        throw invalidArgument(`next.count must be a number, got ${String(count)}`);
      faults.failNext(count, name);
    }
  }
}

function updateLimits(context: AdminContext, body: Record<string, unknown>): void {
  known(body, ["tier", "all", "byModel", "clearUsage"]);
  const next: Record<string, unknown> = { ...context.limiter.options };
  for (const field of ["tier", "all", "byModel"] as const) {
    if (!Object.hasOwn(body, field)) continue;
    if (body[field] === null) delete next[field];
    else next[field] = body[field];
  }
  const byModel = next.byModel;
  if (byModel !== undefined) {
    if (typeof byModel !== "object" || byModel === null) throw invalidArgument("byModel must be an object");
    const unknown = Object.keys(byModel).filter((model) => !context.models.includes(model));
    if (unknown.length > 0) throw invalidArgument(`byModel names models not served: ${unknown.join(", ")}`);
  }
  context.limiter.configure(next);
  if (body.clearUsage === true) context.limiter.clearUsage();
}

function advanceClock(clock: EmulatorClock, body: Record<string, unknown>): void {
  known(body, ["advanceMs", "advanceSeconds"]);
  const ms =
    typeof body.advanceMs === "number"
      ? body.advanceMs
      : typeof body.advanceSeconds === "number"
        ? body.advanceSeconds * 1000
        : undefined;
  if (ms === undefined)
    throw invalidArgument("POST /_emulator/clock needs advanceMs or advanceSeconds (a number)");
  clock.advance(ms);
}

function known(body: Record<string, unknown>, fields: readonly string[]): void {
  const unknown = Object.keys(body).filter((field) => !fields.includes(field));
  if (unknown.length > 0) {
    throw invalidArgument(`unknown field(s) ${unknown.join(", ")}; this endpoint takes ${fields.join(", ")}`);
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (size > MAX_BODY_BYTES)
        return reject(invalidArgument(`admin bodies are limited to ${MAX_BODY_BYTES} bytes`));
      const text = Buffer.concat(chunks).toString("utf8").trim();
      if (text === "") return resolve({});
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          return reject(invalidArgument("admin bodies are JSON objects"));
        }
        resolve(parsed as Record<string, unknown>);
      } catch (error) {
        reject(invalidArgument(`Invalid JSON payload received. ${(error as Error).message}`));
      }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
