// Preloaded into a worker process by services/cli/bench/worker-memory.ts (`node --import`): samples the
// process's resident memory and event-loop delay while it runs, and prints them as one JSON line
// on stderr when it exits. Nothing here changes what the worker does.
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
sampler.unref();

/** The kernel's own peak resident size (VmHWM), which catches spikes between samples. */
function kernelPeakRss(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
}

process.on("exit", () => {
  delay.disable();
  process.stderr.write(
    `BENCH ${JSON.stringify({
      peakRssBytes: Math.max(peakRss, kernelPeakRss()),
      eventLoopDelayMaxMs: delay.max / 1e6,
      eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
    })}\n`,
  );
});
