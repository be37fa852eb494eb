#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { ConfigError } from "@tessera/config";
import { TesseraError, UsageError } from "@tessera/core";
import { RedisUnavailableError, RunNotFoundError } from "@tessera/queue";
import { StorageError } from "@tessera/storage";
import { registerDemo } from "./commands/demo.ts";
import { registerEmulator } from "./commands/emulator.ts";
import { registerEstimate } from "./commands/estimate.ts";
import { registerLifecycle } from "./commands/lifecycle.ts";
import { registerRun } from "./commands/run.ts";
import { registerStatus } from "./commands/status.ts";
import { registerTokens } from "./commands/tokens.ts";
import { registerWorker } from "./commands/worker.ts";

/** Options every Redis-backed command takes; each overrides its environment variable. */
function common(cmd: Command): Command {
  return cmd
    .option("--redis-url <url>", "Redis URL (env REDIS_URL, default redis://127.0.0.1:6379)")
    .option("--prefix <prefix>", "namespace of Tessera's Redis keys (env TESSERA_PREFIX, default tessera)")
    .option("--s3-endpoint <url>", "S3-compatible endpoint, e.g. MinIO (env S3_ENDPOINT; unset: AWS)")
    .addOption(
      new Option("--log-level <level>", "log verbosity (env LOG_LEVEL)").choices([
        "debug",
        "info",
        "warn",
        "error",
      ]),
    );
}

const program = new Command()
  .name("tessera")
  .description("Annotate image datasets in bulk with Google Gemini")
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

registerRun(program, common);
registerStatus(program, common);
registerLifecycle(program, common);
registerWorker(program, common);
registerEmulator(program);
registerTokens(program);
registerEstimate(program, common);
registerDemo(program, common);

/** Problems the user can fix: one line, no stack, exit 2. */
function isUserError(err: unknown): boolean {
  return (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof RedisUnavailableError ||
    err instanceof RunNotFoundError ||
    err instanceof StorageError ||
    (err instanceof TesseraError && !err.retryable)
  );
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the message (it names the flag); help and version exit 0.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (isUserError(err)) {
    console.error(`tessera: ${(err as Error).message}`);
    process.exitCode = 2;
  } else {
    console.error("tessera: unexpected error:", err);
    process.exitCode = 1;
  }
}
