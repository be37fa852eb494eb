// `node bench/src/profile-summary.ts <file.cpuprofile | dir>...`: where a process's CPU went, by
// package (node_modules name, workspace package, or node: internals) and by top functions, from
// the profiles `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` leaves behind.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

function packageOf(url: string): string {
  if (url === "") return "(native, GC, idle)";
  if (url.startsWith("node:")) return "node internals";
  const modules = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1]!;
  const workspace = /.*\/(packages|services)\/([^/]+)\//.exec(url);
  if (workspace !== null) return `@tessera/${workspace[2]}`;
  return url;
}

function summarize(file: string): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const perSample = totalMs / Math.max(1, profile.samples.length);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * perSample;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    busy += ms;
    const pkg = functionName === "(garbage collector)" ? "(garbage collector)" : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fn = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, ms]) =>
          `  ${ms.toFixed(0).padStart(7)} ms ${((ms / busy) * 100).toFixed(1).padStart(5)} %  ${name}`,
      );
  return [
    `${file}: ${totalMs.toFixed(0)} ms wall, ${busy.toFixed(0)} ms on CPU (JS, GC, native)`,
    "by package:",
    ...top(byPackage, 12),
    "top functions (self time):",
    ...top(byFunction, 15),
  ].join("\n");
}

for (const arg of process.argv.slice(2)) {
  const files = statSync(arg).isDirectory()
    ? readdirSync(arg)
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => join(arg, f))
    : [arg];
  for (const file of files) console.log(summarize(file) + "\n");
}
