// The operator's endpoint under /_emulator/: counters, faults and limits changed while running,
// the clock moved by hand, a reset; and the opt-in JSON-lines request log.
import { ApiError, GoogleGenAI, createPartFromBase64 } from "@google/genai";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdminSnapshot, Emulator } from "../src/index.ts";
import { manualClock, startEmulator } from "../src/index.ts";

const MODEL = "gemini-2.5-flash";
const KEY = "admin-test-secret-key";

let emulator: Emulator;
let ai: GoogleGenAI;
let png: Buffer;
const logLines: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ clock: manualClock(), log: (line) => logLines.push(line) });
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.url } });
  png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#1030c0" } })
    .png()
    .toBuffer();
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(async () => {
  await admin("POST", "reset");
  await admin("POST", "faults", { rates: null, latencyMs: null, clearNext: true });
  await admin("POST", "limits", { tier: null, all: null, byModel: null, clearUsage: true });
  logLines.length = 0;
});

async function admin<T = Record<string, unknown>>(
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

async function generate(): Promise<number> {
  try {
    await ai.models.generateContent({
      model: MODEL,
      contents: [createPartFromBase64(png.toString("base64"), "image/png"), "What is this?"],
    });
    return 200;
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

describe("GET /_emulator/stats", () => {
  it("reports traffic, tokens, faults, rate limiting, files and the clock, and is not itself counted", async () => {
    await generate();
    await ai.models.countTokens({ model: MODEL, contents: "hello" });
    emulator.failNext(1, 503);
    await generate();
    await ai.files.upload({ file: new Blob([png], { type: "image/png" }) });

    const { status, json } = await admin<AdminSnapshot>("GET", "stats");
    expect(status).toBe(200);
    expect(json).toMatchObject({
      byRouteAndStatus: { generateContent: { 200: 1, 503: 1 }, countTokens: { 200: 1 } },
      imagesSeen: 1,
      faultsInjected: { 503: 1 },
      rateLimited: { requests: 0, rpm: 0, tpm: 0, rpd: 0 },
      tokenLimitRejections: 0,
      files: { count: 1, bytes: png.length },
      clock: { nowMs: emulator.clock.now() },
    });
    expect(json.billedPromptTokens).toBeGreaterThan(258);
    expect(json.billedOutputTokens).toBeGreaterThan(0);
    // Admin calls stay out of the API's counters.
    await admin("GET", "stats");
    expect((await admin<AdminSnapshot>("GET", "stats")).json.requests).toBe(json.requests);
  });
});

describe("POST /_emulator/faults", () => {
  it("changes rates while running, queues forced faults, and reports the settings", async () => {
    expect((await admin("POST", "faults", { rates: { "503": 1 } })).json).toEqual({
      settings: { faults: { rates: { "503": 1 } }, seed: 1 },
      pending: 0,
    });
    expect(await generate()).toBe(503);
    await admin("POST", "faults", { rates: null, next: [{ fault: "429", count: 2 }, { fault: 504 }] });
    expect((await admin("GET", "faults")).json).toMatchObject({ pending: 3 });
    expect([await generate(), await generate(), await generate(), await generate()]).toEqual([
      429, 429, 504, 200,
    ]);
  });

  it("refuses what the injector would reject, naming the problem", async () => {
    const tooMuch = await admin<{ error: { message: string } }>("POST", "faults", {
      rates: { "503": 0.7, "500": 0.7 },
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.json.error.message).toMatch(/error fault rates add up to 1.4/);
    expect((await admin("POST", "faults", { next: { fault: "teapot" } })).status).toBe(400);
    expect((await admin("POST", "faults", { rate: 1 })).status).toBe(400);
    expect((await admin("POST", "faults", "{not json")).status).toBe(400);
    // Nothing half-applied.
    expect(await generate()).toBe(200);
  });
});

describe("POST /_emulator/limits and /_emulator/clock", () => {
  it("sets limits while running and moves the clock past the window", async () => {
    const set = await admin<{ effective: Record<string, unknown> }>("POST", "limits", {
      tier: "free",
      byModel: { [MODEL]: { rpm: 1 } },
    });
    expect(set.json.effective[MODEL]).toEqual({ rpm: 1, tpm: 250_000, rpd: 250 });
    expect(set.json.effective["gemini-2.5-pro"]).toEqual({ rpm: 10, tpm: 250_000, rpd: 250 });

    expect(await generate()).toBe(200);
    expect(await generate()).toBe(429);
    const before = emulator.clock.now();
    const moved = await admin<{ nowMs: number }>("POST", "clock", { advanceSeconds: 60 });
    expect(moved.json.nowMs).toBe(before + 60_000);
    expect(await generate()).toBe(200);
    expect((await admin<AdminSnapshot>("GET", "stats")).json.rateLimitUsage).toEqual([
      { client: 1, model: MODEL, rpm: 1, tpm: expect.any(Number) as unknown, rpd: 2 },
    ]);
  });

  it("refuses limits for models it does not serve and clock moves backwards", async () => {
    expect((await admin("POST", "limits", { byModel: { "gemini-9": { rpm: 1 } } })).status).toBe(400);
    expect((await admin("POST", "limits", { all: { rpm: -3 } })).status).toBe(400);
    expect((await admin("POST", "clock", { advanceMs: -1 })).status).toBe(400);
    expect((await admin("POST", "clock", {})).status).toBe(400);
  });
});

describe("POST /_emulator/reset and unknown endpoints", () => {
  it("zeroes counters, usage and queued faults but keeps settings", async () => {
    await admin("POST", "limits", { all: { rpm: 1 } });
    await generate();
    emulator.failNext(2, 500);
    expect((await admin("POST", "reset")).json).toEqual({ reset: true });
    const { json } = await admin<AdminSnapshot>("GET", "stats");
    expect(json).toMatchObject({ requests: 0, faultsInjected: {}, rateLimitUsage: [] });
    expect((await admin("GET", "faults")).json).toMatchObject({ pending: 0 });
    expect(await generate()).toBe(200);
    expect(await generate()).toBe(429);
  });

  it("404s an unknown admin path in the API's error shape", async () => {
    const { status, json } = await admin<{ error: { status: string; message: string } }>("DELETE", "stats");
    expect(status).toBe(404);
    expect(json.error.status).toBe("NOT_FOUND");
    expect(json.error.message).toMatch(/No admin endpoint DELETE \/_emulator\/stats/);
  });
});

describe("request log", () => {
  it("writes one JSON line per API request, never the key, whether sent as header or ?key=", async () => {
    await generate();
    const viaQuery = await fetch(`${emulator.url}/v1/models/${MODEL}:countTokens?key=${KEY}`, {
      method: "POST",
      body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }),
    });
    expect(viaQuery.status).toBe(200);
    await admin("GET", "stats");

    expect(logLines).toHaveLength(2);
    const [first, second] = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toMatchObject({ msg: "request", route: "generateContent", model: MODEL, status: 200 });
    expect(second).toMatchObject({
      route: "countTokens",
      path: `/v1/models/${MODEL}:countTokens?key=%3Credacted%3E`,
    });
    for (const line of logLines) expect(line).not.toContain(KEY);
  });
});
