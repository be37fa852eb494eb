import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { Redis } from "ioredis";
import { makePhoto, uploadAll } from "../harness/images.ts";
import { runTessera } from "../harness/processes.ts";
import type { Metric } from "../harness/report.ts";
import { redisCpuSeconds, s3ServerCpuSeconds } from "../harness/server-cpu.ts";
import { openBench, type BenchEnv } from "../harness/setup.ts";
import { defineScenario } from "../scenario.ts";

const PER_DIR = 1000;
const keyOf = (i: number) =>
  `d${String(Math.floor(i / PER_DIR)).padStart(3, "0")}/img-${String(i).padStart(6, "0")}.jpg`;

/**
 * Bytes Redis holds for every key of the namespace (MEMORY USAGE, exact for small values), in
 * total and by kind of key (ids replaced by <id>), which shows where a queued job's bytes go.
 */
async function namespaceBytes(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<{ bytes: number; keys: number; byKind: Map<string, { keys: number; bytes: number }> }> {
  let cursor = "0";
  let bytes = 0;
  let keys = 0;
  const byKind = new Map<string, { keys: number; bytes: number }>();
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory("USAGE", key, "SAMPLES", "0");
    for (const [i, [error, size]] of ((await pipeline.exec()) ?? []).entries()) {
      if (error !== null) continue;
      bytes += Number(size ?? 0);
      const kind = batch[i]!.slice(prefix.length + 1)
        .replaceAll(runId, "<run>")
        .replace(/<run>-[0-9a-f]{24}/, "<job>");
      const entry = byKind.get(kind) ?? { keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number(size ?? 0);
      byKind.set(kind, entry);
    }
    keys += batch.length;
  } while (cursor !== "0");
  return { bytes, keys, byKind };
}

interface Measured {
  objectsPerSecond: number;
  scanPerSecond: number;
  peakRssMiB: number;
  cpuMsPerObject: number;
  /** The loopback S3 server's CPU (gateway, OSD, monitor) per object; NaN for file:// or another server. */
  s3ServerCpuMsPerObject: number;
  redisCpuMsPerObject: number;
  redisBytesPerJob: number;
  redisKeys: number;
  /** The largest kinds of key, e.g. "annotate:<job>: 20000 keys, 890 B/job". */
  redisBreakdown: string[];
}

async function measure(bench: BenchEnv, source: string, out: string, objects: number): Promise<Measured> {
  await bench.resetRedis();
  const s3Cpu0 = source.startsWith("s3://") ? s3ServerCpuSeconds() : undefined;
  const redisCpu0 = await redisCpuSeconds(bench.redis);
  const t0 = performance.now();
  // No --wait and no workers: the command lists, probes each header, enqueues, and exits.
  const run = await runTessera(["run", source, "--out", out, "--json"], bench.env);
  const seconds = (performance.now() - t0) / 1000;
  const s3Cpu1 = s3Cpu0 === undefined ? undefined : s3ServerCpuSeconds();
  const redisCpu1 = await redisCpuSeconds(bench.redis);
  const started = JSON.parse(run.stdout().trim().split("\n").at(-1)!) as { runId: string; images: number };
  if (started.images !== objects) throw new Error(`queued ${started.images} of ${objects}: ${run.output()}`);
  const runHash = await bench.redis.hgetall(`${bench.prefix}:run:${started.runId}`);
  const scanSeconds =
    runHash["createdAt"] !== undefined && runHash["scannedAt"] !== undefined
      ? (Date.parse(runHash["scannedAt"]) - Date.parse(runHash["createdAt"])) / 1000
      : Number.NaN;
  const { bytes, keys, byKind } = await namespaceBytes(bench.redis, bench.prefix, started.runId);
  const redisBreakdown = [...byKind.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, 5)
    .map(([kind, e]) => `${kind}: ${e.keys} keys, ${(e.bytes / objects).toFixed(0)} B/job`);
  return {
    objectsPerSecond: objects / seconds,
    scanPerSecond: objects / scanSeconds,
    peakRssMiB: (run.exitStats()?.peakRssBytes ?? Number.NaN) / 2 ** 20,
    cpuMsPerObject: ((run.exitStats()?.cpuSeconds ?? Number.NaN) * 1000) / objects,
    s3ServerCpuMsPerObject:
      s3Cpu0 === undefined || s3Cpu1 === undefined ? Number.NaN : ((s3Cpu1 - s3Cpu0) * 1000) / objects,
    redisCpuMsPerObject: ((redisCpu1 - redisCpu0) * 1000) / objects,
    redisBytesPerJob: bytes / objects,
    redisKeys: keys,
    redisBreakdown,
  };
}

/**
 * What the processes sharing this machine spend per object, and the rate that caps: every core
 * busy with the run command, the S3 server and Redis; and the run command alone on one core.
 */
function ceilingNote(variant: string, m: Measured): string {
  const parts: [string, number][] = [
    ["run command", m.cpuMsPerObject],
    ...(Number.isNaN(m.s3ServerCpuMsPerObject)
      ? []
      : [["S3 server", m.s3ServerCpuMsPerObject] as [string, number]]),
    ["Redis", m.redisCpuMsPerObject],
  ];
  const perObject = parts.reduce((sum, [, ms]) => sum + ms, 0);
  const cores = availableParallelism();
  const shares = parts.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(", ");
  return (
    `${variant}: ${perObject.toFixed(2)} ms of CPU per object in all (${shares}): at most ` +
    `${Math.round((cores * 1000) / perObject)} objects/s on this machine's ${cores} cores; ` +
    `the run command alone would allow ${Math.round(1000 / m.cpuMsPerObject)} objects/s per core`
  );
}

export const ingestScenario = defineScenario({
  name: "ingest",
  summary:
    "list + header probe + enqueue: objects/s, peak RSS of the run command, Redis bytes per queued job",
  knobs: {
    s3: {
      default: 100_000,
      quick: 300,
      help: "objects in the S3 bucket (uploading 100k to RGW takes a while)",
    },
    file: { default: 100_000, quick: 1000, help: "objects in a file:// folder (0 skips the variant)" },
    runs: { default: 3, quick: 1, help: "measured runs per variant" },
  },
  async run({ s3, file, runs }) {
    const bench = await openBench("ingest", { latencyMs: 0 });
    const dir = await mkdtemp(join(tmpdir(), "tessera-bench-ingest-"));
    try {
      // Small real JPEGs: the header probe reads them like any photo's.
      const body = await makePhoto({ width: 64, height: 48, seed: 1, format: "jpeg" });
      const metrics: Metric[] = [];
      const variants: { name: string; objects: number; source: string; out: string }[] = [];
      if (s3 > 0) {
        const t = performance.now();
        await uploadAll(
          bench.bucket.storage("src"),
          s3,
          (i) => ({ key: keyOf(i), body, contentType: "image/jpeg" }),
          64,
        );
        console.error(`uploaded ${s3} objects to S3 in ${((performance.now() - t) / 1000).toFixed(0)} s`);
        variants.push({
          name: "s3",
          objects: s3,
          source: `s3://${bench.bucket.bucket}/src`,
          out: `s3://${bench.bucket.bucket}/out`,
        });
      }
      if (file > 0) {
        for (let d = 0; d * PER_DIR < file; d++)
          await mkdir(join(dir, "src", keyOf(d * PER_DIR).split("/")[0]!), { recursive: true });
        let next = 0;
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (next < file) await writeFile(join(dir, "src", keyOf(next++)), body);
          }),
        );
        await mkdir(join(dir, "out"));
        variants.push({
          name: "file",
          objects: file,
          source: pathToFileURL(join(dir, "src")).href,
          out: pathToFileURL(join(dir, "out")).href,
        });
      }
      const breakdowns = new Map<string, string[]>();
      const ceilings: string[] = [];
      for (const v of variants) {
        const results: Measured[] = [];
        for (let r = 0; r < runs; r++) {
          results.push(await measure(bench, v.source, v.out, v.objects));
          const m = results.at(-1)!;
          console.error(
            `${v.name} run ${r + 1}: ${m.objectsPerSecond.toFixed(0)} objects/s, ${m.peakRssMiB.toFixed(0)} MiB, ${m.redisBytesPerJob.toFixed(0)} B/job`,
          );
        }
        breakdowns.set(v.name, results.at(-1)!.redisBreakdown);
        metrics.push(
          {
            name: `${v.name}: objects/s (command wall clock)`,
            unit: "objects/s",
            samples: results.map((m) => m.objectsPerSecond),
          },
          {
            name: `${v.name}: objects/s (scan only)`,
            unit: "objects/s",
            samples: results.map((m) => m.scanPerSecond),
          },
          {
            name: `${v.name}: peak RSS of the run command`,
            unit: "MiB",
            samples: results.map((m) => m.peakRssMiB),
          },
          {
            name: `${v.name}: CPU of the run command`,
            unit: "ms/object",
            samples: results.map((m) => m.cpuMsPerObject),
          },
          ...(v.name === "s3"
            ? [
                {
                  name: `${v.name}: CPU of the S3 server (RGW)`,
                  unit: "ms/object",
                  samples: results.map((m) => m.s3ServerCpuMsPerObject),
                },
              ]
            : []),
          {
            name: `${v.name}: CPU of the Redis server`,
            unit: "ms/object",
            samples: results.map((m) => m.redisCpuMsPerObject),
          },
          {
            name: `${v.name}: Redis per queued job`,
            unit: "bytes",
            samples: results.map((m) => m.redisBytesPerJob),
          },
        );
        ceilings.push(ceilingNote(v.name, results.at(-1)!));
      }
      await bench.resetRedis();
      const notes = [
        ...ceilings,
        ...[...breakdowns.entries()].map(([name, lines]) => `${name} Redis by key: ${lines.join("; ")}`),
      ];
      const targets = variants.flatMap((v) => [
        {
          metric: `${v.name}: objects/s (command wall clock)`,
          op: ">=" as const,
          value: 2000,
          label: ">= 2,000/s",
        },
        {
          metric: `${v.name}: peak RSS of the run command`,
          op: "<=" as const,
          value: 256,
          label: "<= 256 MB",
        },
        { metric: `${v.name}: Redis per queued job`, op: "<=" as const, value: 1024, label: "<= 1 KB" },
      ]);
      return {
        metrics,
        targets,
        notes,
        conditions: {
          variants: variants.map((v) => ({ name: v.name, objects: v.objects })),
          objects: `64x48 JPEG (${body.length} bytes) in folders of ${PER_DIR}`,
          command:
            "tessera run <source> --out <out> --json (no --wait, no workers): timed from spawn to exit",
          scanOnly: "createdAt to scannedAt of the run hash (no process start-up)",
          redis:
            "MEMORY USAGE summed over every key of the run's namespace after the scan, over the objects queued",
          serverCpu:
            "CPU time of the loopback RGW's daemons (/proc) and of redis-server (INFO cpu) across the command, over the objects",
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
      await bench.close();
    }
  },
});
