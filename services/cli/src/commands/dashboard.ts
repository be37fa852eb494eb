import type { Command } from "commander";
import { startDashboard } from "@tessera/dashboard";
import { configFrom, dashboardDeps, openContext, type CommonFlags } from "../context.ts";

interface DashboardFlags extends CommonFlags {
  host?: string;
  port?: string;
  dev?: boolean;
  allowActions?: boolean;
}

export function registerDashboard(program: Command, common: (cmd: Command) => Command): void {
  common(
    program
      .command("dashboard")
      .description("serve the web dashboard, its JSON API, /metrics and bull-board (/queues)")
      .option("--host <host>", "interface to listen on (env TESSERA_DASHBOARD_HOST, default 127.0.0.1)")
      .option("--port <n>", "port (env TESSERA_DASHBOARD_PORT, default 8790)")
      .option("--dev", "allow starting without TESSERA_DASHBOARD_TOKEN, on 127.0.0.1/localhost only")
      .option("--allow-actions", "allow pause, resume, cancel and retry (env TESSERA_DASHBOARD_ACTIONS)"),
  ).action(async (flags: DashboardFlags) => {
    const config = configFrom(flags, {
      TESSERA_DASHBOARD_HOST: flags.host,
      TESSERA_DASHBOARD_PORT: flags.port,
      TESSERA_DASHBOARD_ACTIONS: flags.allowActions ? "true" : undefined,
    });
    const ctx = await openContext(config, "worker");
    let dashboard;
    try {
      dashboard = await startDashboard(dashboardDeps(ctx), {
        host: config.env.TESSERA_DASHBOARD_HOST,
        port: config.env.TESSERA_DASHBOARD_PORT,
        token: config.env.TESSERA_DASHBOARD_TOKEN,
        dev: flags.dev === true,
        actions: config.env.TESSERA_DASHBOARD_ACTIONS,
      });
    } catch (err) {
      await ctx.close();
      throw err;
    }
    console.log(`dashboard: ${dashboard.url}`);
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    await dashboard.close();
    await ctx.close();
  });
}
