// Preloaded into every process a benchmark starts (`node --import`): on exit it writes the
// process's peak resident set (VmHWM) and CPU time where the benchmark can read them. Sampling /proc from outside
// would miss a peak between two samples, and a process's /proc entry is gone once it has exited.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env["BENCH_RSS_DIR"];
if (dir !== undefined && dir !== "") {
  process.on("exit", () => {
    const status = readFileSync("/proc/self/status", "utf8");
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
    const cpu = process.cpuUsage();
    writeFileSync(
      join(dir, `${process.pid}.json`),
      JSON.stringify({ peakRssBytes: Number(hwm ?? 0) * 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 }),
    );
  });
}
