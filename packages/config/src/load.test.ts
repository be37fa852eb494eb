import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./load.ts";
import { renderConfigurationTable } from "./configuration-doc.ts";

describe("loadConfig", () => {
  it("applies defaults", () => {
    const { env, s3 } = loadConfig({});
    expect(env.GEMINI_TIER).toBe("tier1");
    expect(env.GEMINI_MODEL).toBe("gemini-2.5-flash");
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.TESSERA_CONCURRENCY).toBe(4);
    expect(s3).toEqual({ region: "us-east-1", forcePathStyle: false, fastRangeReads: true });
    expect(env.TESSERA_PROBE_CONCURRENCY).toBe(64);
  });

  it("names the bad variable and its value", () => {
    expect(() => loadConfig({ TESSERA_CONCURRENCY: "lots" })).toThrowError(/TESSERA_CONCURRENCY.*"lots"/);
    expect(() => loadConfig({ REDIS_URL: "localhost:6379" })).toThrowError(/REDIS_URL: must start with/);
  });

  it("never echoes a secret", () => {
    try {
      loadConfig({ GEMINI_API_KEY: "", AWS_SECRET_ACCESS_KEY: "s3cr3t" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect(String(err)).not.toContain("s3cr3t");
      expect(String(err)).toContain("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    try {
      loadConfig({ GOOGLE_GEMINI_BASE_URL: "not a url", AWS_SESSION_TOKEN: "" });
      expect.unreachable();
    } catch (err) {
      expect(String(err)).toContain("GOOGLE_GEMINI_BASE_URL");
    }
  });

  it("treats empty strings as unset and lets overrides win", () => {
    const { env } = loadConfig({ GEMINI_MODEL: "", TESSERA_CONCURRENCY: "2" }, { TESSERA_CONCURRENCY: "9" });
    expect(env.GEMINI_MODEL).toBe("gemini-2.5-flash");
    expect(env.TESSERA_CONCURRENCY).toBe(9);
  });

  it("turns path-style on for custom S3 endpoints and carries credentials", () => {
    const { s3 } = loadConfig({
      S3_ENDPOINT: "http://127.0.0.1:7480",
      AWS_ACCESS_KEY_ID: "a",
      AWS_SECRET_ACCESS_KEY: "b",
    });
    expect(s3).toEqual({
      endpoint: "http://127.0.0.1:7480",
      region: "us-east-1",
      forcePathStyle: true,
      fastRangeReads: true,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    expect(loadConfig({ TESSERA_S3_FAST_RANGE_READS: "false" }).s3.fastRangeReads).toBe(false);
    expect(loadConfig({ S3_ENDPOINT: "http://x:1", S3_FORCE_PATH_STYLE: "false" }).s3.forcePathStyle).toBe(
      false,
    );
  });

  it("takes rate limits from the tier, with per-metric overrides", () => {
    expect(loadConfig({}).rateLimits("gemini-2.5-flash")).toEqual({
      rpm: 1_000,
      tpm: 1_000_000,
      rpd: 10_000,
    });
    expect(loadConfig({ GEMINI_TIER: "free", TESSERA_RPM: "5" }).rateLimits("m")).toEqual({
      rpm: 5,
      tpm: 250_000,
      rpd: 250,
    });
    expect(loadConfig({ GEMINI_TIER: "unlimited" }).rateLimits("m")).toEqual({});
    expect(() => loadConfig({ GEMINI_TIER: "gold" })).toThrow(/GEMINI_TIER/);
  });

  it("merges TESSERA_PRICES over the defaults and names a bad value", () => {
    const { prices } = loadConfig({
      TESSERA_PRICES:
        '{"gemini-2.5-flash": {"input": 1, "output": 2}, "my-model": {"input": 0, "output": 0}}',
    });
    expect(prices["gemini-2.5-flash"]).toEqual({ input: 1, output: 2 });
    expect(prices["my-model"]).toEqual({ input: 0, output: 0 });
    expect(prices["gemini-2.5-pro"]).toEqual({ input: 1.25, output: 10 });
    expect(() => loadConfig({ TESSERA_PRICES: "{" })).toThrow(/TESSERA_PRICES: not valid JSON/);
    expect(() => loadConfig({ TESSERA_PRICES: '{"m": {"input": -1}}' })).toThrow(/TESSERA_PRICES/);
  });

  it("documents every variable", () => {
    const table = renderConfigurationTable();
    expect(table).toContain("| `TESSERA_CONCURRENCY` | `4` |");
    expect(table).toContain("| `GEMINI_API_KEY` | (unset) |");
  });
});

describe("docs/configuration.md", () => {
  it("holds the current table (regenerate it from renderConfigurationTable)", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
    // Compare cell by cell: the formatter pads table columns.
    const rows = (text: string) =>
      text
        .split("\n")
        .filter((line) => line.startsWith("|") && !/^\|[\s|:-]+\|$/.test(line))
        .map((line) => line.split("|").map((cell) => cell.trim()));
    expect(rows(doc)).toEqual(rows(renderConfigurationTable()));
  });

  it("gives request limits per model, with overrides by model prefix, and names a bad value", () => {
    const config = loadConfig({
      TESSERA_MAX_IMAGES_PER_REQUEST: '{"gemini-2.5-flash": 100}',
      TESSERA_MAX_REQUEST_TOKENS: "50000",
    });
    expect(config.requestLimits("gemini-2.5-flash-lite")).toEqual({
      maxImagesPerRequest: 100,
      maxInlineBytes: 15 * 1024 * 1024,
      maxInputTokens: 50_000,
    });
    expect(config.requestLimits("gemini-3-pro-preview").maxImagesPerRequest).toBe(900);
    expect(loadConfig({}).requestLimits("gemini-2.5-pro")).toMatchObject({
      maxImagesPerRequest: 3_600,
      maxInputTokens: 1_048_576,
    });
    expect(() => loadConfig({ TESSERA_MAX_IMAGES_PER_REQUEST: '{"m": 0}' })).toThrow(
      /TESSERA_MAX_IMAGES_PER_REQUEST/,
    );
    expect(() => loadConfig({ TESSERA_MAX_IMAGES_PER_REQUEST: "[" })).toThrow(/not valid JSON/);
  });
});
