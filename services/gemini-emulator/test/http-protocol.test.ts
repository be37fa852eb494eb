// What the SDK cannot show: the raw HTTP answers, the counters, and the emulator's own options.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions, EmulatorRequestEvent } from "../src/index.ts";
import { startEmulator } from "../src/index.ts";

const KEY = "secret-test-key-123";
let png: string;

beforeAll(async () => {
  png = (
    await sharp({ create: { width: 500, height: 500, channels: 3, background: "#00a000" } })
      .png()
      .toBuffer()
  ).toString("base64");
});

function imageRequest(images = 1): unknown {
  const parts = Array.from({ length: images }, () => ({ inlineData: { mimeType: "image/png", data: png } }));
  return { contents: [{ role: "user", parts: [...parts, { text: "Caption" }] }] };
}

async function post(
  emulator: Emulator,
  path: string,
  body: unknown,
  headers: Record<string, string> = { "x-goog-api-key": KEY },
): Promise<{
  status: number;
  contentType: string | null;
  json: { error?: Record<string, unknown> } & Record<string, unknown>;
}> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    json: (await response.json()) as { error?: Record<string, unknown> } & Record<string, unknown>,
  };
}

async function withEmulator<T>(
  options: EmulatorOptions,
  run: (emulator: Emulator) => Promise<T>,
): Promise<T> {
  const emulator = await startEmulator(options);
  try {
    return await run(emulator);
  } finally {
    await emulator.close();
  }
}

describe("HTTP surface", () => {
  let emulator: Emulator;
  const events: EmulatorRequestEvent[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ onRequest: (event) => events.push(event) });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it("listens on loopback with a random port", () => {
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    expect(emulator.port).toBeGreaterThan(0);
  });

  it("403s a request without an API key, in the API's exact body", async () => {
    const { status, contentType, json } = await post(
      emulator,
      "/v1beta/models/gemini-2.5-flash:generateContent",
      imageRequest(),
      {},
    );
    expect(status).toBe(403);
    expect(contentType).toBe("application/json; charset=UTF-8");
    expect(json).toEqual({
      error: {
        code: 403,
        message:
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        status: "PERMISSION_DENIED",
        details: [],
      },
    });
  });

  it("accepts the key as a ?key= query parameter and never reports it", async () => {
    const { status } = await post(
      emulator,
      `/v1/models/gemini-2.0-flash:countTokens?key=${KEY}`,
      imageRequest(),
      {},
    );
    expect(status).toBe(200);
    expect(events.at(-1)?.path).toBe("/v1/models/gemini-2.0-flash:countTokens?key=%3Credacted%3E");
    await post(emulator, "/v1/models/gemini-2.0-flash:countTokens", imageRequest());
    expect(JSON.stringify(events)).not.toContain(KEY);
  });

  it("404s unknown routes and wrong methods in the error shape", async () => {
    const unknown = await post(emulator, "/v1/models/gemini-2.5-flash:streamGenerateContent", imageRequest());
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ code: 404, status: "NOT_FOUND", details: [] });
    const get = await fetch(`${emulator.url}/v1/models/gemini-2.5-flash:generateContent`, {
      headers: { "x-goog-api-key": KEY },
    });
    expect(get.status).toBe(404);
    expect(await post(emulator, "/v2/models/gemini-2.5-flash:generateContent", imageRequest())).toMatchObject(
      { status: 404 },
    );
  });

  it("400s a body that is not JSON", async () => {
    const { status, json } = await post(emulator, "/v1/models/gemini-2.5-flash:generateContent", "{not json");
    expect(status).toBe(400);
    expect(json.error).toMatchObject({
      status: "INVALID_ARGUMENT",
      message: expect.stringMatching(/^Invalid JSON payload received\./) as unknown,
    });
  });

  it("returns countTokens' modality details on the wire", async () => {
    const { status, json } = await post(
      emulator,
      "/v1beta/models/gemini-2.5-flash:countTokens",
      imageRequest(2),
    );
    expect(status).toBe(200);
    expect(json).toEqual({
      totalTokens: 2 + 4 * 258 * 2,
      promptTokensDetails: [
        { modality: "TEXT", tokenCount: 2 },
        { modality: "IMAGE", tokenCount: 4 * 258 * 2 },
      ],
    });
  });
});

describe("limits", () => {
  it("400s a request over maxRequestBytes and keeps serving the connection", async () => {
    await withEmulator({ maxRequestBytes: 1000 }, async (emulator) => {
      const big = await post(emulator, "/v1/models/gemini-2.5-flash:generateContent", imageRequest());
      expect(big.status).toBe(400);
      expect(big.json.error).toMatchObject({
        message: "Request payload size exceeds the limit: 1000 bytes.",
      });
      const small = await post(emulator, "/v1/models/gemini-2.5-flash:countTokens", {
        contents: [{ parts: [{ text: "hi" }] }],
      });
      expect(small.status).toBe(200);
    });
  });

  it("limits images per request per model", async () => {
    await withEmulator(
      { maxImagesPerRequest: 5, maxImagesPerRequestByModel: { "gemini-2.0-flash": 2 } },
      async (emulator) => {
        expect(
          (await post(emulator, "/v1/models/gemini-2.0-flash:generateContent", imageRequest(3))).status,
        ).toBe(400);
        expect(
          (await post(emulator, "/v1/models/gemini-2.5-flash:generateContent", imageRequest(3))).status,
        ).toBe(200);
        expect(
          (await post(emulator, "/v1/models/gemini-2.5-flash:generateContent", imageRequest(6))).status,
        ).toBe(400);
      },
    );
  });

  it("serves only the configured models, and needs a token rule for each", async () => {
    await expect(startEmulator({ models: ["my-tuned-model"] })).rejects.toThrow(/my-tuned-model.*tokenRules/);
    const rule = {
      kind: "resolution",
      family: "custom",
      tokens: { LOW: 1, MEDIUM: 2, HIGH: 3, ULTRA_HIGH: 4 },
      defaultResolution: "HIGH",
    } as const;
    await withEmulator(
      { models: ["my-tuned-model"], tokenRules: { "my-tuned-model": rule } },
      async (emulator) => {
        const { json } = await post(emulator, "/v1/models/my-tuned-model:countTokens", imageRequest());
        expect(json.totalTokens).toBe(2 + 3);
        expect((await post(emulator, "/v1/models/gemini-2.5-flash:countTokens", imageRequest())).status).toBe(
          404,
        );
      },
    );
  });
});

describe("stats", () => {
  it("counts requests by route, status and version, bills only successful generateContent calls", async () => {
    await withEmulator({}, async (emulator) => {
      const ok = await post(emulator, "/v1/models/gemini-2.5-flash:generateContent", imageRequest(2));
      await post(emulator, "/v1beta/models/gemini-2.5-flash:countTokens", imageRequest());
      await post(emulator, "/v1/models/nope:generateContent", imageRequest());
      await post(emulator, "/nowhere", {});
      emulator.failNext(1, 503);
      await post(emulator, "/v1/models/gemini-2.5-flash:generateContent", imageRequest());

      const usage = ok.json.usageMetadata as { promptTokenCount: number; candidatesTokenCount: number };
      expect(emulator.stats).toEqual({
        requests: 5,
        byRoute: { generateContent: 3, countTokens: 1, unmatched: 1 },
        byStatus: { 200: 2, 404: 2, 503: 1 },
        byRouteAndStatus: {
          generateContent: { 200: 1, 404: 1, 503: 1 },
          countTokens: { 200: 1 },
          unmatched: { 404: 1 },
        },
        byApiVersion: { v1: 3, v1beta: 1 },
        billedPromptTokens: usage.promptTokenCount,
        billedOutputTokens: usage.candidatesTokenCount,
        imagesSeen: 3,
      });
      const live = emulator.stats;
      emulator.resetStats();
      expect(live.requests).toBe(0);
    });
  });
});

describe("fault injection and latency", () => {
  async function statuses(options: EmulatorOptions, count: number): Promise<number[]> {
    return withEmulator(options, async (emulator) => {
      const seen: number[] = [];
      for (let i = 0; i < count; i += 1) {
        seen.push(
          (
            await post(emulator, "/v1/models/gemini-2.5-flash:countTokens", {
              contents: [{ parts: [{ text: "x" }] }],
            })
          ).status,
        );
      }
      return seen;
    });
  }

  it("fails the same requests for the same seed", async () => {
    const faults = { rate429: 0.2, rate500: 0.1, rate503: 0.2, retryDelaySeconds: 7 };
    const first = await statuses({ faults, seed: 11 }, 40);
    expect(await statuses({ faults, seed: 11 }, 40)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 429, 500, 503]));
  });

  it("carries the configured retry delay on random 429s", async () => {
    await withEmulator({ faults: { rate429: 1, retryDelaySeconds: 7 } }, async (emulator) => {
      const { status, json } = await post(emulator, "/v1/models/gemini-2.5-flash:countTokens", {
        contents: [{ parts: [{ text: "x" }] }],
      });
      expect(status).toBe(429);
      expect(json.error?.details).toContainEqual({
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        retryDelay: "7s",
      });
    });
  });

  it("delays answers by latencyMs", async () => {
    await withEmulator({ latencyMs: { min: 150, max: 200 } }, async (emulator) => {
      const started = performance.now();
      expect(
        (
          await post(emulator, "/v1/models/gemini-2.5-flash:countTokens", {
            contents: [{ parts: [{ text: "x" }] }],
          })
        ).status,
      ).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    });
  });

  it("stops accepting connections once closed", async () => {
    const emulator = await startEmulator();
    await emulator.close();
    await expect(
      fetch(`${emulator.url}/v1/models/gemini-2.5-flash:countTokens`, { method: "POST" }),
    ).rejects.toThrow();
  });
});
