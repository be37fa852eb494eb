import { readFileSync } from "node:fs";
import { GoogleGenAI } from "@google/genai";
import { generateScene } from "@tessera/testing";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { EMULATOR_KNOBS, EmulatorConfigError, emulatorConfigFrom } from "./config-env.ts";
import { FaultInjector } from "./faults.ts";
import { resolveModels } from "./options.ts";
import { startEmulator } from "./server.ts";
import { prepare, sendTask } from "./sight/test-support/send-task.ts";

const config = (flags: Record<string, unknown>, env: Record<string, string> = {}) =>
  emulatorConfigFrom(flags, env);

function failure(flags: Record<string, unknown>, env: Record<string, string> = {}): EmulatorConfigError {
  try {
    emulatorConfigFrom(flags, env);
  } catch (error) {
    expect(error).toBeInstanceOf(EmulatorConfigError);
    return error as EmulatorConfigError;
  }
  throw new Error("expected a configuration error");
}

describe("emulatorConfigFrom", () => {
  it("defaults to the CLI's port and loopback with no options", () => {
    expect(config({})).toEqual({ options: {}, port: 8787, host: "127.0.0.1" });
  });

  it("reads every knob from its flag", () => {
    const { options, port, host } = config({
      port: "0",
      host: "0.0.0.0",
      latency: "p50=100,p99=900",
      faults: "503=0.1,reset=0.02,fence=0.5",
      burst429: "3",
      truncateTokens: "7",
      retryDelay: "1.5",
      seed: "42",
      tier: "tier1",
      rpm: "5",
      tpm: "1000",
      rpd: "50",
      limits: "gemini-2.5-pro:rpm=1,tpm=10;gemini-2.0-flash:rpd=2",
      tokenRule: "gemini-2.5-flash=flat258,gemini-1.5-pro=tiled-1.5",
      maxImages: "16",
      maxRequestBytes: "1048576",
      maxInputTokens: "5000",
      maxOutputTokens: "2048",
      models: "gemini-2.5-flash, gemini-2.5-pro,gemini-2.0-flash,gemini-1.5-pro",
      apiKeys: "k1,k2",
      log: true,
      fileProcessing: "250",
      maxFileBytes: "1000000",
      maxStorageBytes: "5000000",
      urlFetch: "off",
      urlFetchTimeout: "1500",
      batchPending: "0",
      batchRunning: "2000",
      maskSize: "256",
    });
    expect({ port, host }).toEqual({ port: 0, host: "0.0.0.0" });
    expect(options).toEqual({
      models: ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-1.5-pro"],
      apiKeys: ["k1", "k2"],
      faults: {
        rates: { "503": 0.1, reset: 0.02, fence: 0.5 },
        burst429: 3,
        truncateTokens: 7,
        retryDelaySeconds: 1.5,
      },
      latencyMs: { p50: 100, p99: 900 },
      seed: 42,
      rateLimits: {
        tier: "tier1",
        all: { rpm: 5, tpm: 1000, rpd: 50 },
        byModel: { "gemini-2.5-pro": { rpm: 1, tpm: 10 }, "gemini-2.0-flash": { rpd: 2 } },
      },
      imageTokenRule: { "gemini-2.5-flash": "flat258", "gemini-1.5-pro": "tiled-1.5" },
      maxImagesPerRequest: 16,
      maxImagesPerRequestByModel: {
        "gemini-2.5-flash": 16,
        "gemini-2.5-pro": 16,
        "gemini-2.0-flash": 16,
        "gemini-1.5-pro": 16,
      },
      maxRequestBytes: 1_048_576,
      maxInputTokens: 5000,
      maxOutputTokens: 2048,
      log: true,
      files: { processingMs: 250, maxFileBytes: 1_000_000, maxProjectBytes: 5_000_000 },
      allowUrlFetch: false,
      urlFetchTimeoutMs: 1500,
      batches: { pendingMs: 0, runningMs: 2000 },
      sight: { maskSize: 256 },
    });
    // What the CLI hands over is accepted as it stands.
    expect(() => resolveModels(options)).not.toThrow();
    expect(() => new FaultInjector({ faults: options.faults, latencyMs: options.latencyMs })).not.toThrow();
  });

  it("reads the environment when a flag is absent, and prefers the flag when both are set", () => {
    const env = {
      TESSERA_EMULATOR_PORT: "9000",
      TESSERA_EMULATOR_LATENCY: "10-20",
      TESSERA_EMULATOR_LOG: "1",
    };
    expect(config({}, env)).toMatchObject({
      port: 9000,
      options: { latencyMs: { min: 10, max: 20 }, log: true },
    });
    expect(config({ port: "9100" }, env).port).toBe(9100);
    expect(config({}, { TESSERA_EMULATOR_LOG: "off" }).options).toEqual({});
    expect(config({}, { TESSERA_EMULATOR_TOKEN_RULE: "flat258" }).options).toEqual({
      imageTokenRule: "flat258",
    });
  });

  it("reads the Files API, URL fetching, batch and sight knobs from the environment", () => {
    const env = {
      TESSERA_EMULATOR_FILE_PROCESSING: "100",
      TESSERA_EMULATOR_MAX_FILE_BYTES: "2048",
      TESSERA_EMULATOR_MAX_STORAGE_BYTES: "0",
      TESSERA_EMULATOR_URL_FETCH: "false",
      TESSERA_EMULATOR_URL_FETCH_TIMEOUT: "250",
      TESSERA_EMULATOR_BATCH_PENDING: "10",
      TESSERA_EMULATOR_BATCH_RUNNING: "0",
      TESSERA_EMULATOR_MASK_SIZE: "box",
    };
    expect(config({}, env).options).toEqual({
      files: { processingMs: 100, maxFileBytes: 2048, maxProjectBytes: 0 },
      allowUrlFetch: false,
      urlFetchTimeoutMs: 250,
      batches: { pendingMs: 10, runningMs: 0 },
      sight: { maskSize: "box" },
    });
    // The flag beats its variable, one setting at a time.
    expect(config({ maxFileBytes: "4096", urlFetch: "on", maskSize: "512" }, env).options).toMatchObject({
      files: { processingMs: 100, maxFileBytes: 4096, maxProjectBytes: 0 },
      sight: { maskSize: 512 },
    });
    expect(config({ urlFetch: "on" }, env).options.allowUrlFetch).toBeUndefined();
    expect(config({}, { TESSERA_EMULATOR_URL_FETCH: "on" }).options).toEqual({});
    expect(config({}, { TESSERA_EMULATOR_BATCH_RUNNING: "5" }).options).toEqual({
      batches: { runningMs: 5 },
    });
  });

  it("names the flag, or the variable, that holds a bad value", () => {
    expect(failure({ port: "70000" }).message).toBe('--port: expected an integer 0-65535, got "70000"');
    expect(failure({}, { TESSERA_EMULATOR_PORT: "http" }).message).toMatch(/^TESSERA_EMULATOR_PORT: /);
    expect(failure({ rpm: "ten" }).knob).toBe("--rpm");
    expect(failure({ faults: "503=0.7,500=0.6" }).message).toMatch(/^--faults: error fault rates add up to/);
    expect(failure({ faults: "418=0.1" }).message).toMatch(/^--faults: unknown fault "418"/);
    expect(failure({ faults: "503" }).message).toMatch(/^--faults: expected NAME=RATE/);
    expect(failure({ latency: "slow" }).knob).toBe("--latency");
    expect(failure({ latency: "p50=900,p99=100" }).message).toMatch(/^--latency: /);
    expect(failure({ tier: "gold" }).message).toBe(
      '--tier: expected one of free, tier1, tier2, tier3, got "gold"',
    );
    expect(failure({ limits: "gemini-2.5-flash:qps=3" }).message).toMatch(/^--limits: unknown limit "qps"/);
    expect(failure({ limits: "gemini-9:rpm=1" }).message).toBe("--limits: names models not served: gemini-9");
    expect(failure({ tokenRule: "square" }).message).toMatch(/^--token-rule: unknown token rule "square"/);
    expect(failure({ tokenRule: "x=flat258" }).message).toBe("--token-rule: names models not served: x");
    expect(failure({ maxImages: "0" }).knob).toBe("--max-images");
    expect(failure({ retryDelay: "-1" }).knob).toBe("--retry-delay");
    expect(failure({ models: " , " }).knob).toBe("--models");
    expect(failure({ host: " " }).knob).toBe("--host");
    expect(failure({}, { TESSERA_EMULATOR_LOG: "maybe" }).knob).toBe("TESSERA_EMULATOR_LOG");
  });

  it("names the Files API, URL fetching, batch and sight knob that holds a bad value", () => {
    expect(failure({ fileProcessing: "-5" }).message).toBe(
      '--file-processing: expected an integer >= 0, got "-5"',
    );
    expect(failure({}, { TESSERA_EMULATOR_FILE_PROCESSING: "soon" }).knob).toBe(
      "TESSERA_EMULATOR_FILE_PROCESSING",
    );
    expect(failure({ maxFileBytes: "0" }).message).toBe(
      '--max-file-bytes: expected an integer >= 1, got "0"',
    );
    expect(failure({}, { TESSERA_EMULATOR_MAX_FILE_BYTES: "2GB" }).knob).toBe(
      "TESSERA_EMULATOR_MAX_FILE_BYTES",
    );
    expect(failure({ maxStorageBytes: "1.5" }).knob).toBe("--max-storage-bytes");
    expect(failure({}, { TESSERA_EMULATOR_MAX_STORAGE_BYTES: "lots" }).knob).toBe(
      "TESSERA_EMULATOR_MAX_STORAGE_BYTES",
    );
    expect(failure({ urlFetch: "sometimes" }).message).toMatch(/^--url-fetch: expected true\/false/);
    // An empty variable does not quietly switch fetching off.
    expect(failure({}, { TESSERA_EMULATOR_URL_FETCH: "" }).message).toBe(
      "TESSERA_EMULATOR_URL_FETCH: must not be empty",
    );
    expect(failure({ urlFetchTimeout: "0" }).message).toBe(
      '--url-fetch-timeout: expected an integer >= 1, got "0"',
    );
    expect(failure({}, { TESSERA_EMULATOR_URL_FETCH_TIMEOUT: "10s" }).knob).toBe(
      "TESSERA_EMULATOR_URL_FETCH_TIMEOUT",
    );
    expect(failure({ batchPending: "fast" }).knob).toBe("--batch-pending");
    expect(failure({}, { TESSERA_EMULATOR_BATCH_PENDING: "-1" }).knob).toBe("TESSERA_EMULATOR_BATCH_PENDING");
    expect(failure({ batchRunning: "1e3" }).knob).toBe("--batch-running");
    expect(failure({}, { TESSERA_EMULATOR_BATCH_RUNNING: "x" }).knob).toBe("TESSERA_EMULATOR_BATCH_RUNNING");
    expect(failure({ maskSize: "0" }).message).toBe(
      '--mask-size: expected "box" or an integer 1-4096, got "0"',
    );
    expect(failure({ maskSize: "square" }).knob).toBe("--mask-size");
    expect(failure({}, { TESSERA_EMULATOR_MASK_SIZE: "99999" }).knob).toBe("TESSERA_EMULATOR_MASK_SIZE");
  });

  it("hands startEmulator options it accepts, and --mask-size 256 sends 256x256 segment masks", async () => {
    const { options } = config({
      fileProcessing: "0",
      maxFileBytes: "1024",
      maxStorageBytes: "0",
      urlFetch: "off",
      urlFetchTimeout: "1",
      batchPending: "0",
      batchRunning: "0",
      maskSize: "256",
    });
    const emulator = await startEmulator({ ...options, port: 0 });
    try {
      const ai = new GoogleGenAI({ apiKey: "knobs", httpOptions: { baseUrl: emulator.url } });
      const { bytes } = await generateScene({ width: 300, height: 200, seed: 3, shapes: 3 });
      const sent = await sendTask(ai, "segment", {}, [await prepare(bytes, "original")]);
      const items = JSON.parse(sent.text) as { mask: string }[];
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        const png = Buffer.from(item.mask.replace(/^data:image\/png;base64,/, ""), "base64");
        expect(await sharp(png).metadata()).toMatchObject({ width: 256, height: 256, channels: 1 });
      }
      // The client still resizes each map to its box.
      expect(sent.outcome.perImage[0]!.ok).toBe(true);
    } finally {
      await emulator.close();
    }
  });

  it('refuses a mask size that is not "box" or a positive integer when given in code', async () => {
    await expect(startEmulator({ port: 0, sight: { maskSize: 0 } })).rejects.toThrow(
      'sight.maskSize must be "box" or an integer >= 1, got 0',
    );
  });
});

describe("docs/emulator.md", () => {
  it("lists every flag and environment variable with its default", () => {
    const doc = readFileSync(new URL("../../../docs/emulator.md", import.meta.url), "utf8");
    for (const knob of EMULATOR_KNOBS) {
      const flag = knob.flag.split(" ")[0]!;
      const row = doc.split("\n").find((line) => line.startsWith("|") && line.includes(`\`${flag}`));
      expect(row, `a table row for ${flag}`).toBeDefined();
      expect(row).toContain(`\`${knob.env}\``);
      expect(row).toContain(knob.default);
    }
  });
});
