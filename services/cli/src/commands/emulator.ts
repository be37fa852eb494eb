import type { Command } from "commander";
import { startEmulator } from "@tessera/gemini-emulator";
import { UsageError } from "@tessera/core";

interface EmulatorFlags {
  port: string;
  host: string;
  latency: string;
}

export function registerEmulator(program: Command): void {
  program
    .command("emulator")
    .description("serve the local Gemini API emulator (point GOOGLE_GEMINI_BASE_URL at it)")
    .option("--port <n>", "TCP port; 0 picks a free one", "8787")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--latency <ms>", "added latency per generateContent call", "0")
    .action(async (flags: EmulatorFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port: expected 0-65535, got "${flags.port}"`);
      const latency = Number(flags.latency);
      if (!Number.isFinite(latency) || latency < 0)
        throw new UsageError(`--latency: expected milliseconds >= 0, got "${flags.latency}"`);
      const emulator = await startEmulator({ port, host: flags.host, latencyMs: latency });
      console.log(`Gemini emulator listening on ${emulator.url}`);
      console.log(`  export GOOGLE_GEMINI_BASE_URL=${emulator.url}`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await emulator.close();
    });
}
