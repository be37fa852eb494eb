import type { RunState, RunStore } from "@tessera/queue";
import { progressLine } from "./progress.ts";

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const TERMINAL = new Set(["completed", "budget_exhausted", "failed", "cancelled"]);

/**
 * Polls the run hash until the run ends, redrawing one progress line on a terminal and printing
 * a line every 10 s otherwise (CI logs, pipes).
 */
export async function waitForRun(
  runs: RunStore,
  runId: string,
  options: { stream?: NodeJS.WriteStream; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<RunState> {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 250;
  let lastPlain = 0;
  for (;;) {
    const run = await runs.require(runId);
    const line = progressLine(run);
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${line}`);
    } else if (Date.now() - lastPlain >= 10_000 || TERMINAL.has(run.status)) {
      stream.write(`${line}\n`);
      lastPlain = Date.now();
    }
    if (TERMINAL.has(run.status)) {
      if (stream.isTTY) stream.write("\n");
      return run;
    }
    await sleep(interval, options.signal);
  }
}
