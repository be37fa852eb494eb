// Preloaded into a process when a scenario asks for it (startTessera's loopDelay): the event loop's
// delay can only be seen from inside the process. Like the RSS probe, it writes at exit, since the
// process is gone by the time the benchmark reads the figures. Nothing here changes what it does.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";

const dir = process.env["BENCH_RSS_DIR"];
if (dir !== undefined && dir !== "") {
  // Values are intervals between 10 ms ticks, so an idle loop reads ~10 ms, not 0.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on("exit", () => {
    delay.disable();
    writeFileSync(
      join(dir, `${process.pid}.loop.json`),
      JSON.stringify({ maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 }),
    );
  });
}
