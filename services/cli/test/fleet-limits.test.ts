import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorRequestEvent } from "@tessera/gemini-emulator";
import { COLORS, makeScene, useTestPrefix } from "@tessera/testing";
import { exitOf, tessera, tesseraProcess } from "./cli.ts";

// Three worker processes share one RPM limit through Redis. Gemini's windows are per minute, so
// this test takes a little over one: RPM 12 and 18 images means 12 at once, 6 a minute later.
const RPM = 12;
const IMAGES = 18;

let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
let emulator: Emulator;
let dir: string;
const calls: { at: number; status: number }[] = [];

beforeAll(async () => {
  redisEnv = await useTestPrefix("fleet");
  emulator = await startEmulator({
    port: 0,
    onRequest: (event: EmulatorRequestEvent) => {
      // Gemini counts a request when it arrives, not when it is answered.
      if (event.route === "generateContent")
        calls.push({ at: Date.now() - event.durationMs, status: event.status });
    },
  });
  dir = await mkdtemp(join(tmpdir(), "tessera-fleet-"));
  for (let i = 0; i < IMAGES; i++) {
    await writeFile(
      join(dir, `img-${String(i).padStart(2, "0")}.png`),
      await makeScene({ width: 64 + i, height: 48, background: COLORS.green }),
    );
  }
});

afterAll(async () => {
  await emulator?.close();
  await redisEnv?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("a fleet of workers", () => {
  it("stays inside the shared RPM and still completes every image", { timeout: 180_000 }, async () => {
    const env = {
      ...process.env,
      TESSERA_PREFIX: redisEnv.prefix,
      GOOGLE_GEMINI_BASE_URL: emulator.url,
      GEMINI_API_KEY: "fleet-test",
      GEMINI_TIER: "unlimited",
      TESSERA_RPM: String(RPM),
      LOG_LEVEL: "warn",
    };
    const workers = [1, 2, 3].map(() => tesseraProcess(["worker", "--concurrency", "4"], env));
    try {
      const source = pathToFileURL(join(dir)).href;
      const out = pathToFileURL(join(dir, "out")).href;
      const result = await tessera(["run", source, "--out", out, "--wait", "--json"], env, 170_000);
      expect(result.code, result.stderr + workers.map((w) => w.output()).join("\n")).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ status: "completed", done: IMAGES, failed: 0 });
    } finally {
      for (const w of workers) w.child.kill("SIGTERM");
    }
    for (const w of workers) expect(await exitOf(w.child)).toBe(0);

    const ok = calls.filter((c) => c.status === 200).map((c) => c.at);
    expect(ok).toHaveLength(IMAGES);
    expect(calls.filter((c) => c.status === 429)).toHaveLength(0);
    const busiestMinute = Math.max(
      ...ok.map((start) => ok.filter((t) => t >= start && t < start + 60_000).length),
    );
    console.info(`fleet: ${ok.length} calls, busiest sliding minute ${busiestMinute} (limit ${RPM})`);
    expect(busiestMinute).toBeLessThanOrEqual(RPM);
  });
});
