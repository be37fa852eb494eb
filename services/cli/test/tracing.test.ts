import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COLORS, makeScene, useTestPrefix } from "@tessera/testing";
import { tessera } from "./cli.ts";

// OTEL_EXPORTER_OTLP_ENDPOINT turns on traces: `tessera run` exports the spans of the jobs it
// adds (bullmq-otel) over OTLP/HTTP to a collector, here a plain HTTP server that keeps them.
let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let collector: Server;
let endpoint: string;
let dir: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  redisEnv = await useTestPrefix("tracing");
  dir = await mkdtemp(join(tmpdir(), "tessera-tracing-"));
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString("utf8")));
    req.on("end", () => {
      received.push({ path: req.url ?? "", body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
});

afterAll(async () => {
  collector?.close();
  await redisEnv?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("OpenTelemetry", () => {
  it("exports the spans of the jobs it queues to the OTLP endpoint", async () => {
    await mkdir(join(dir, "src"));
    for (const i of [1, 2]) {
      await writeFile(
        join(dir, "src", `${i}.png`),
        await makeScene({ width: 30 + i, height: 20, background: COLORS.red }),
      );
    }
    const result = await tessera(
      ["run", pathToFileURL(join(dir, "src")).href, "--out", pathToFileURL(join(dir, "out")).href, "--json"],
      {
        ...process.env,
        TESSERA_PREFIX: redisEnv.prefix,
        GOOGLE_GEMINI_BASE_URL: "http://127.0.0.1:9",
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_SERVICE_NAME: "tessera-tracing-test",
      },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const traces = received.filter((r) => r.path === "/v1/traces");
    expect(traces.length).toBeGreaterThan(0);
    const all = traces.map((t) => t.body).join("\n");
    expect(all).toContain("tessera-tracing-test");
    expect(all).toMatch(/annotate/);
  });

  it("exports nothing without the endpoint", async () => {
    const before = received.length;
    const result = await tessera(["status", "--json"], { ...process.env, TESSERA_PREFIX: redisEnv.prefix });
    expect(result.code).toBe(0);
    expect(received.length).toBe(before);
  });
});
