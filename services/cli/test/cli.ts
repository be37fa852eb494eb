import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `tessera` entry point in a child process, as a user's shell would. */
export function tessera(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tessera ${args.join(" ")} timed out; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running `tessera` command (a worker); the caller stops it. */
export function tesseraProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** The environment of `tessera` processes in a test: its Redis prefix and the emulator. */
export function cliEnv(
  prefix: string,
  emulatorUrl: string,
  apiKey: string,
  model = "gemini-2.5-flash",
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TESSERA_PREFIX: prefix,
    GOOGLE_GEMINI_BASE_URL: emulatorUrl,
    GEMINI_API_KEY: apiKey,
    GEMINI_MODEL: model,
    LOG_LEVEL: "warn",
  };
}

/** Stops a test's worker process, then closes the emulator and cleans the bucket and Redis prefix. */
export async function closeAll(parts: {
  worker?: { child: ChildProcess } | undefined;
  emulator?: { close(): Promise<void> } | undefined;
  bucket?: { cleanup(): Promise<void> } | undefined;
  redis?: { cleanup(): Promise<void> } | undefined;
}): Promise<void> {
  parts.worker?.child.kill("SIGTERM");
  if (parts.worker) await exitOf(parts.worker.child);
  await parts.emulator?.close();
  await parts.bucket?.cleanup();
  await parts.redis?.cleanup();
}
