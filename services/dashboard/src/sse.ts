import type { IncomingMessage, ServerResponse } from "node:http";
import { isNotable, type DashboardData } from "./data.ts";

const TICK_MS = 1_000;
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events for the pages: every second, the runs list (or one run) when it changed,
 * and a run's new event-stream entries (status changes, failures, pauses) as they arrive.
 */
export function streamUpdates(
  data: DashboardData,
  req: IncomingMessage,
  res: ServerResponse,
  runId: string | undefined,
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");
  let last = "";
  let lastEventId: string | undefined;
  let closed = false;
  let busy = false;
  const send = (event: string, payload: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  };
  const tick = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      if (runId === undefined) {
        const body = JSON.stringify(await data.listRuns());
        if (body !== last) res.write(`event: runs\ndata: ${body}\n\n`);
        last = body;
      } else {
        const run = await data.run(runId);
        const body = JSON.stringify(run ?? null);
        if (body !== last) res.write(`event: run\ndata: ${body}\n\n`);
        last = body;
        if (lastEventId === undefined) {
          const [newest] = await data.events(runId, { count: 1 });
          lastEventId = newest?.id ?? "0-0";
        } else {
          const events = await data.events(runId, { afterId: lastEventId });
          if (events.length > 0) {
            lastEventId = events.at(-1)!.id;
            const notable = events.filter(isNotable);
            if (notable.length > 0) send("events", notable);
          }
        }
      }
    } catch (err) {
      send("problem", { message: err instanceof Error ? err.message : String(err) });
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), TICK_MS);
  const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
  req.on("close", () => {
    closed = true;
    clearInterval(timer);
    clearInterval(heartbeat);
  });
}
