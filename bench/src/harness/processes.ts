import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("./rss-probe.ts", import.meta.url));
const LOOP_PROBE = fileURLToPath(new URL("./loop-probe.ts", import.meta.url));
/** The `tessera` command as users run it (pnpm tessera, the container): Node flags included. */
export const TESSERA_BIN = fileURLToPath(new URL("../../../services/cli/bin/tessera", import.meta.url));

export interface ExitStats {
  peakRssBytes: number;
  cpuSeconds: number;
  /** Only from a process started with loopDelay. */
  eventLoopDelay?: { maxMs: number; p99Ms: number };
}

export interface ProbeOptions {
  /** Preload the event-loop delay probe too; off by default, so other scenarios keep its timer out. */
  loopDelay?: boolean;
}

export interface BenchProcess {
  child: ChildProcess;
  /** stdout and stderr so far (stdout apart, for --json answers). */
  output(): string;
  stdout(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Peak RSS and CPU time, known once the process has exited (from the preloaded probe). */
  exitStats(): ExitStats | undefined;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs a Node script with the RSS probe preloaded. BENCH_NODE_ARGS (space-separated) goes to every
 * such process, for profiles: `--cpu-prof --cpu-prof-dir=/tmp/prof` or `--max-old-space-size=128`.
 */
export function startNode(script: string, args: string[], env: NodeJS.ProcessEnv): BenchProcess {
  const nodeArgs = (process.env["BENCH_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "");
  return startProcess(process.execPath, [...nodeArgs, "--import", PROBE, script, ...args], env);
}

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv): BenchProcess {
  const rssDir = mkdtempSync(join(tmpdir(), "tessera-bench-rss-"));
  const child = spawn(command, args, {
    env: { ...env, BENCH_RSS_DIR: rssDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let all = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    all += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => (all += d.toString()));
  let stats: ExitStats | undefined;
  /** The probes' files, read once the process is gone; the folder goes with them. */
  const collectStats = () => {
    try {
      stats = JSON.parse(readFileSync(join(rssDir, `${child.pid}.json`), "utf8")) as ExitStats;
      const loop = join(rssDir, `${child.pid}.loop.json`);
      if (existsSync(loop))
        stats.eventLoopDelay = JSON.parse(readFileSync(loop, "utf8")) as ExitStats["eventLoopDelay"];
    } catch {
      stats = undefined; // killed before its exit handler ran: no figures
    }
    rmSync(rssDir, { recursive: true, force: true });
  };
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", (error) => {
      rmSync(rssDir, { recursive: true, force: true });
      reject(error);
    });
    child.once("close", (code) => {
      collectStats();
      resolve(code);
    });
  });
  return {
    child,
    output: () => all,
    stdout: () => out,
    exited,
    exitStats: () => stats,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs the `tessera` launcher (its Node flags are part of what is measured) on this Node, with
 * the probes and BENCH_NODE_ARGS passed through NODE_OPTIONS.
 */
export function startTessera(
  args: string[],
  env: NodeJS.ProcessEnv,
  probes: ProbeOptions = {},
): BenchProcess {
  const nodeOptions = [
    env["NODE_OPTIONS"] ?? "",
    process.env["BENCH_NODE_ARGS"] ?? "",
    `--import=${PROBE}`,
    probes.loopDelay === true ? `--import=${LOOP_PROBE}` : "",
  ];
  return startProcess(TESSERA_BIN, args, {
    ...env,
    TESSERA_NODE: process.execPath,
    NODE_OPTIONS: nodeOptions.filter((o) => o !== "").join(" "),
  });
}

/** Runs a command to its end; a non-zero exit is an error carrying the output. */
export async function runTessera(args: string[], env: NodeJS.ProcessEnv): Promise<BenchProcess> {
  const proc = startTessera(args, env);
  const code = await proc.exited;
  if (code !== 0) throw new Error(`tessera ${args.join(" ")} exited with ${code}:\n${proc.output()}`);
  return proc;
}

/** Resolves once the output contains `text` (a worker's "worker started" line). */
export async function waitForOutput(proc: BenchProcess, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.output().includes(text)) {
    if (proc.child.exitCode !== null) throw new Error(`process exited before "${text}":\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** User + system CPU seconds a live process has used so far (clock ticks of 1/100 s on Linux). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export const BARE_LOOP = fileURLToPath(new URL("../loops/bare-loop.ts", import.meta.url));

/** Starts `count` worker processes and waits until each one is listening to the queue. */
export async function startWorkers(
  count: number,
  concurrency: number,
  env: NodeJS.ProcessEnv,
  probes: ProbeOptions = {},
): Promise<BenchProcess[]> {
  const workers = Array.from({ length: count }, () =>
    startTessera(["worker", "--concurrency", String(concurrency)], { ...env, LOG_LEVEL: "info" }, probes),
  );
  await Promise.all(workers.map((w) => waitForOutput(w, "worker started")));
  return workers;
}
