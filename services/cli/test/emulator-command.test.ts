// `tessera emulator` as a user runs it: flags and variables reach the emulator, bad values stop it
// with exit code 2 and the name of the flag or variable at fault.
import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator } from "@tessera/gemini-emulator";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

/** The caller's environment without emulator settings, so the machine's own cannot leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("TESSERA_EMULATOR_")),
  );
  return { ...env, ...extra };
}

const started: ChildProcess[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exitOf(child);
  }
});

/** Starts the command and waits for the URL it prints. */
async function serve(
  args: string[],
  env = cleanEnv(),
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const running = tesseraProcess(["emulator", ...args], env);
  started.push(running.child);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      // The three start-up lines may arrive in separate chunks: wait for the last one.
      const match = /listening on (http:\/\/\S+)[\s\S]*admin: /.exec(running.output());
      if (match) resolve(match[1]!);
      else if (running.child.exitCode !== null) reject(new Error(`emulator exited: ${running.output()}`));
      else setTimeout(check, 20);
    };
    check();
  });
  return { url, child: running.child, output: () => running.output() };
}

describe("tessera emulator", () => {
  it("starts on a free port, prints its URLs, applies flags and variables, and stops on SIGTERM", async () => {
    const { url, child, output } = await serve(
      ["--port", "0", "--tier", "free", "--rpm", "2", "--faults", "fence=1", "--models", "gemini-2.5-flash"],
      cleanEnv({ TESSERA_EMULATOR_SEED: "9", TESSERA_EMULATOR_RPD: "7" }),
    );
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output()).toContain(`export GOOGLE_GEMINI_BASE_URL=${url}`);
    expect(output()).toContain(`admin: ${url}/_emulator/stats`);

    const limits = (await (await fetch(`${url}/_emulator/limits`)).json()) as { effective: unknown };
    expect(limits.effective).toEqual({ "gemini-2.5-flash": { rpm: 2, tpm: 250_000, rpd: 7 } });
    const faults = (await (await fetch(`${url}/_emulator/faults`)).json()) as { settings: unknown };
    expect(faults.settings).toEqual({ faults: { rates: { fence: 1 } }, seed: 9 });

    child.kill("SIGTERM");
    expect(await exitOf(child)).toBe(0);
  });

  it("logs requests as JSON lines on stderr with --log, never the key", async () => {
    const { url, output } = await serve(["--port", "0", "--log"]);
    const response = await fetch(`${url}/v1/models/gemini-2.5-flash:countTokens`, {
      method: "POST",
      headers: { "x-goog-api-key": "cli-secret-key", "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ parts: [{ text: "hello" }] }] }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => output()).toContain('"route":"countTokens"');
    const line = output()
      .split("\n")
      .find((text) => text.includes('"route":"countTokens"'))!;
    expect(JSON.parse(line)).toMatchObject({ msg: "request", status: 200, service: "gemini-emulator" });
    expect(output()).not.toContain("cli-secret-key");
  });

  it("exits 2 naming the bad flag, the bad variable, or the unknown option", async () => {
    const [badFlag, badVariable, unknown] = await Promise.all([
      tessera(["emulator", "--port", "0", "--rpm", "lots"], cleanEnv()),
      tessera(["emulator", "--port", "0"], cleanEnv({ TESSERA_EMULATOR_TIER: "gold" })),
      tessera(["emulator", "--colour", "red"], cleanEnv()),
    ]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--rpm: expected an integer >= 0, got "lots"');
    expect(badVariable.code).toBe(2);
    expect(badVariable.stderr).toContain("TESSERA_EMULATOR_TIER: expected one of free, tier1, tier2, tier3");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--colour'");
  });

  it("exits 2 when the port is taken", async () => {
    const occupant = await startEmulator({ port: 0 });
    try {
      const result = await tessera(["emulator", "--port", String(occupant.port)], cleanEnv());
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("EADDRINUSE");
    } finally {
      await occupant.close();
    }
  });
});
