import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EMULATOR_KNOBS, EmulatorConfigError, emulatorConfigFrom } from "./config-env.ts";
import { FaultInjector } from "./faults.ts";
import { resolveModels } from "./options.ts";

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
