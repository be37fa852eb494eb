import type { Command } from "commander";
import type { Emulator, EmulatorCliConfig } from "@tessera/gemini-emulator";
import {
  ADMIN_PREFIX,
  EMULATOR_KNOBS,
  EmulatorConfigError,
  emulatorConfigFrom,
  startEmulator,
} from "@tessera/gemini-emulator";
import { UsageError } from "@tessera/core";

export function registerEmulator(program: Command, _common?: (cmd: Command) => Command): void {
  const command = program
    .command("emulator")
    .description(
      "serve the local Gemini API emulator (point GOOGLE_GEMINI_BASE_URL at it); every flag also " +
        "reads the environment variable named in its help, and docs/emulator.md explains each",
    );
  // No commander defaults: an absent flag must fall through to its environment variable.
  for (const knob of EMULATOR_KNOBS) {
    command.option(knob.flag, `${knob.description} (env ${knob.env}; default ${knob.default})`);
  }
  command.action(async (flags: Record<string, unknown>) => {
    const emulator = await start(configFrom(flags));
    console.log(`Gemini emulator listening on ${emulator.url}`);
    console.log(`  export GOOGLE_GEMINI_BASE_URL=${emulator.url}`);
    console.log(`  admin: ${emulator.url}${ADMIN_PREFIX}stats`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    await emulator.close();
  });
}

function configFrom(flags: Record<string, unknown>): EmulatorCliConfig {
  try {
    return emulatorConfigFrom(flags, process.env);
  } catch (error) {
    if (error instanceof EmulatorConfigError) throw new UsageError(error.message);
    throw error;
  }
}

async function start(config: EmulatorCliConfig): Promise<Emulator> {
  try {
    return await startEmulator({ ...config.options, port: config.port, host: config.host });
  } catch (error) {
    // A port in use, or settings that only conflict once combined: the user's to fix.
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}
