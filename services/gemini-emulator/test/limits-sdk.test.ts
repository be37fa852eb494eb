// Rate limits, token limits and token rules as the real @google/genai SDK meets them. Windows run
// on the emulator's injectable clock, moved by hand: no test here sleeps.
import type { GenerateContentParameters } from "@google/genai";
import { ApiError, GoogleGenAI, createPartFromBase64 } from "@google/genai";
import { ApiError as ApiError2, GoogleGenAI as GoogleGenAI2 } from "genai2";
import sharp from "sharp";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions, ImageTokenRuleName } from "../src/index.ts";
import { manualClock, startEmulator, textTokens } from "../src/index.ts";

const MODEL = "gemini-2.5-flash";
const PROMPT = "Describe this image.";
const SECOND = 1000;

let small: string;
let large: string;
const running: Emulator[] = [];

beforeAll(async () => {
  const image = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: "#d01010" } })
      .png()
      .toBuffer();
  small = (await image(64, 64)).toString("base64");
  large = (await image(1600, 1200)).toString("base64");
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
});

async function emulatorWith(options: EmulatorOptions): Promise<Emulator> {
  const emulator = await startEmulator({ clock: manualClock(), ...options });
  running.push(emulator);
  return emulator;
}

function client(emulator: Emulator, apiKey: string): GoogleGenAI {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: emulator.url } });
}

function request(data = small): GenerateContentParameters {
  return { model: MODEL, contents: [createPartFromBase64(data, "image/png"), PROMPT] };
}

interface ErrorBody {
  error: { code: number; status: string; message: string; details: Record<string, unknown>[] };
}

async function failureOf(call: Promise<unknown>): Promise<{ status: number; body: ErrorBody }> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApiError);
  return { status: (error as ApiError).status, body: JSON.parse((error as ApiError).message) as ErrorBody };
}

function retryDelayMs(body: ErrorBody): number {
  const info = body.error.details.find(
    (detail) => detail["@type"] === "type.googleapis.com/google.rpc.RetryInfo",
  );
  return Number(/^(\d+)s$/.exec(String(info?.retryDelay))?.[1]) * SECOND;
}

function violations(body: ErrorBody): Record<string, unknown>[] {
  const failure = body.error.details.find(
    (detail) => detail["@type"] === "type.googleapis.com/google.rpc.QuotaFailure",
  );
  return failure?.violations as Record<string, unknown>[];
}

describe("requests per minute, per API key", () => {
  it("refuses a fourth request in the window for one key only, with the delay the window implies", async () => {
    const emulator = await emulatorWith({ rateLimits: { all: { rpm: 3 } } });
    const [alpha, beta, gamma] = ["alpha-key", "beta-key", "gamma-key"].map((key) => client(emulator, key));

    // alpha at t = 0, 10.5 s, 20 s; beta twice; gamma once: interleaved, as a fleet would be.
    await alpha!.models.generateContent(request());
    await beta!.models.generateContent(request());
    emulator.clock.advance(10.5 * SECOND);
    await alpha!.models.generateContent(request());
    await gamma!.models.generateContent(request());
    emulator.clock.advance(9.5 * SECOND);
    await alpha!.models.generateContent(request());
    await beta!.models.generateContent(request());
    emulator.clock.advance(5.5 * SECOND);

    const { status, body } = await failureOf(alpha!.models.generateContent(request()));
    expect(status).toBe(429);
    expect(body.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(violations(body)).toEqual([
      {
        quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        quotaDimensions: { location: "global", model: MODEL },
        quotaValue: "3",
      },
    ]);
    expect(body.error.details.map((detail) => detail["@type"])).toEqual([
      "type.googleapis.com/google.rpc.QuotaFailure",
      "type.googleapis.com/google.rpc.Help",
      "type.googleapis.com/google.rpc.RetryInfo",
    ]);
    // alpha's first request (t = 0) leaves the window at 60 s; it is 25.5 s now: 34.5 s to go. The
    // stated tolerance: RetryInfo is whole seconds rounded up, so 0 <= retryDelay - exact < 1 s;
    // the message carries the exact figure.
    const exact = 34.5 * SECOND;
    expect(retryDelayMs(body) - exact).toBeGreaterThanOrEqual(0);
    expect(retryDelayMs(body) - exact).toBeLessThan(SECOND);
    expect(body.error.message).toContain("Please retry in 34.5s.");

    // The other keys have their own windows.
    await expect(beta!.models.generateContent(request())).resolves.toHaveProperty("text");
    await expect(gamma!.models.generateContent(request())).resolves.toHaveProperty("text");

    // Waiting what RetryInfo says is enough, and a moment less is not.
    emulator.clock.advance(exact - 1);
    expect((await failureOf(alpha!.models.generateContent(request()))).status).toBe(429);
    emulator.clock.advance(1);
    await expect(alpha!.models.generateContent(request())).resolves.toHaveProperty("text");

    expect(emulator.snapshot().rateLimited).toEqual({ requests: 2, rpm: 2, tpm: 0, rpd: 0 });
  });

  it("does not count refused requests, injected 429s or countTokens calls", async () => {
    const emulator = await emulatorWith({ rateLimits: { all: { rpm: 2 } } });
    const ai = client(emulator, "key");
    for (let i = 0; i < 5; i += 1)
      await ai.models.countTokens({ model: MODEL, contents: request().contents });
    emulator.failNext(1, 429);
    expect((await failureOf(ai.models.generateContent(request()))).status).toBe(429);
    await ai.models.generateContent(request());
    await ai.models.generateContent(request());
    for (let i = 0; i < 3; i += 1)
      expect((await failureOf(ai.models.generateContent(request()))).status).toBe(429);
    await expect(
      ai.models.countTokens({ model: MODEL, contents: request().contents }),
    ).resolves.toHaveProperty("totalTokens");

    emulator.clock.advance(60 * SECOND);
    await ai.models.generateContent(request());
    await ai.models.generateContent(request());
    expect(emulator.stats.byRouteAndStatus.generateContent).toEqual({ 200: 4, 429: 4 });
  });

  it("answers SDK 2.x on /v1beta the same way", async () => {
    const emulator = await emulatorWith({ rateLimits: { all: { rpm: 1 } } });
    const ai = new GoogleGenAI2({ apiKey: "old-sdk", httpOptions: { baseUrl: emulator.url } });
    const call = () => ai.models.generateContent({ model: MODEL, contents: PROMPT });
    await call();
    const error = await call().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ApiError2);
    expect((error as ApiError2).status).toBe(429);
    expect(emulator.stats.byApiVersion).toEqual({ v1beta: 2 });
  });
});

describe("input tokens per minute and requests per day", () => {
  it("waits for enough prompt tokens to leave the window", async () => {
    const emulator = await emulatorWith({ rateLimits: { all: { tpm: 1000 } } });
    const ai = client(emulator, "key");
    const cost = (await ai.models.countTokens({ model: MODEL, contents: request().contents })).totalTokens!;
    expect(cost).toBe(258 + textTokens(PROMPT));

    await ai.models.generateContent(request()); // t = 0
    emulator.clock.advance(15 * SECOND);
    await ai.models.generateContent(request()); // t = 15 s
    emulator.clock.advance(15 * SECOND);
    await ai.models.generateContent(request()); // t = 30 s: 3 x 263 = 789 used
    const { body } = await failureOf(ai.models.generateContent(request()));
    expect(violations(body)).toEqual([
      expect.objectContaining({
        quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
        quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier",
        quotaValue: "1000",
      }),
    ]);
    // One request's tokens must go: the t = 0 one leaves at 60 s, 30 s from now.
    expect(retryDelayMs(body)).toBe(30 * SECOND);
    expect(emulator.snapshot().rateLimitUsage).toEqual([
      { client: 1, model: MODEL, rpm: 3, tpm: 3 * cost, rpd: 3 },
    ]);
  });

  it("uses a tier's quota names and counts a sliding day", async () => {
    const emulator = await emulatorWith({ rateLimits: { tier: "tier1", all: { rpd: 1 } } });
    const ai = client(emulator, "key");
    await ai.models.generateContent(request());
    emulator.clock.advance(3 * 3600 * SECOND);
    const { body } = await failureOf(ai.models.generateContent(request()));
    expect(violations(body)).toEqual([
      expect.objectContaining({
        quotaMetric: "generativelanguage.googleapis.com/generate_requests_per_model_per_day",
        quotaId: "GenerateRequestsPerDayPerProjectPerModel",
        quotaValue: "1",
      }),
    ]);
    expect(retryDelayMs(body)).toBe(21 * 3600 * SECOND);
    expect(body.error.message).toContain("Please retry in 21h0m0s.");
    emulator.clock.advance(21 * 3600 * SECOND);
    await expect(ai.models.generateContent(request())).resolves.toHaveProperty("text");
  });
});

describe("token limits per model", () => {
  it("refuses a prompt over the context window, and maxOutputTokens over the output limit", async () => {
    const emulator = await emulatorWith({ maxInputTokens: 1000 });
    const ai = client(emulator, "key");
    const tooLong = await failureOf(ai.models.generateContent(request(large)));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toBe(
      `The input token count (${4 * 258 + textTokens(PROMPT)}) exceeds the maximum number of tokens allowed (1000).`,
    );
    // countTokens is how a caller finds out, so it still answers.
    await expect(
      ai.models.countTokens({ model: MODEL, contents: request(large).contents }),
    ).resolves.toHaveProperty("totalTokens", 4 * 258 + textTokens(PROMPT));

    const tooMuch = await failureOf(
      ai.models.generateContent({
        ...request(),
        model: "gemini-2.0-flash",
        config: { maxOutputTokens: 8193 },
      }),
    );
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.message).toMatch(/maxOutputTokens value of 8193 .* to 8193 \(exclusive\)/);
    await expect(
      ai.models.generateContent({
        ...request(),
        model: "gemini-2.0-flash",
        config: { maxOutputTokens: 8192 },
      }),
    ).resolves.toHaveProperty("text");
    expect(emulator.snapshot().tokenLimitRejections).toBe(2);
  });
});

describe("image token rules", () => {
  const expected: Record<ImageTokenRuleName, number> = {
    // 1600x1200: crop unit 800 -> 2 x 2 tiles.
    tiled: 4 * 258,
    // Crop unit clamped to 768 -> 3 x 2 tiles.
    "tiled-1.5": 6 * 258,
    flat258: 258,
    "media-resolution": 1120,
  };

  it.each(Object.entries(expected))("%s: countTokens and generateContent agree", async (rule, tokens) => {
    const emulator = await emulatorWith({ imageTokenRule: { [MODEL]: rule as ImageTokenRuleName } });
    const ai = client(emulator, "key");
    const counted = await ai.models.countTokens({ model: MODEL, contents: request(large).contents });
    const answered = await ai.models.generateContent(request(large));
    expect(answered.usageMetadata?.promptTokensDetails).toContainEqual({
      modality: "IMAGE",
      tokenCount: tokens,
    });
    expect(answered.usageMetadata?.promptTokenCount).toBe(counted.totalTokens);
    expect(counted.totalTokens).toBe(tokens + textTokens(PROMPT));
  });
});
