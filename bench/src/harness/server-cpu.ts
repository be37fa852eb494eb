import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { cpuSeconds } from "./processes.ts";

/** The daemons of the loopback S3 server that `infra/s3/rgw.sh` starts, by pid file. */
const RGW_DAEMONS = ["client.rgw.tessera", "osd.0", "mon.a"];

/**
 * CPU seconds the loopback RGW (gateway, OSD, monitor) has used so far; undefined when the S3
 * server is not that one (another endpoint, or its pid files are gone). On a machine shared with
 * the server, its CPU per request bounds what any client can reach.
 */
export function s3ServerCpuSeconds(): number | undefined {
  const run = join(process.env["TESSERA_RGW_DIR"] ?? "/tmp/tessera-rgw", "run");
  let total = 0;
  for (const daemon of RGW_DAEMONS) {
    let pid: number;
    try {
      pid = Number(readFileSync(join(run, `${daemon}.pid`), "utf8").trim());
    } catch {
      return undefined;
    }
    total += cpuSeconds(pid);
  }
  return total;
}

/** CPU seconds the Redis server has used so far (INFO cpu: all its clients, not only ours). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return field("used_cpu_user") + field("used_cpu_sys");
}
