import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { createGeminiClient } from "@tessera/gemini";
import { startEmulator, type Emulator } from "@tessera/gemini-emulator";
import { instrumentGemini, serveMetrics, WorkerMetrics } from "../src/index.ts";

// The worker's Prometheus metrics around the real SDK talking to the emulator over HTTP.
let healthy: Emulator;
let limited: Emulator;
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(async () => {
  provider.register();
  healthy = await startEmulator({ port: 0 });
  limited = await startEmulator({ port: 0, faults: { rates: { "429": 1 }, retryDelaySeconds: 1 } });
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  await healthy?.close();
  await limited?.close();
});

const ask = { model: "gemini-2.5-flash", contents: "Say hello." };

describe("worker metrics", () => {
  it("times Gemini calls, counts 429s and tokens, and serves them on /metrics", async () => {
    const metrics = new WorkerMetrics({ defaultMetrics: false });
    const ok = instrumentGemini(
      createGeminiClient({ apiKey: "k", baseUrl: healthy.url, timeoutMs: 10_000 }),
      metrics,
    );
    const busy = instrumentGemini(
      createGeminiClient({ apiKey: "k", baseUrl: limited.url, timeoutMs: 10_000 }),
      metrics,
    );
    const answer = await ok.models.generateContent(ask);
    await expect(busy.models.generateContent(ask)).rejects.toMatchObject({ status: 429 });
    metrics.annotated(["done"], 0.2);

    const server = await serveMetrics(metrics, 0, "127.0.0.1");
    try {
      const port = (server.address() as { port: number }).port;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain('tessera_gemini_request_seconds_count{result="ok"} 1');
      expect(text).toContain('tessera_gemini_request_seconds_count{result="rate_limited"} 1');
      expect(text).toContain("tessera_gemini_429_total 1");
      expect(text).toContain(
        `tessera_gemini_tokens_total{direction="in"} ${answer.usageMetadata?.promptTokenCount ?? -1}`,
      );
      expect(text).toContain('tessera_worker_images_total{outcome="done"} 1');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
    // One client span per call, with the model and the tokens; the 429 marked as an error.
    const spans = exporter.getFinishedSpans().filter((s) => s.name === "gemini generateContent");
    expect(spans).toHaveLength(2);
    const [good, bad] = spans;
    expect(good!.attributes).toMatchObject({
      "gen_ai.request.model": "gemini-2.5-flash",
      "gen_ai.usage.input_tokens": answer.usageMetadata?.promptTokenCount,
    });
    expect(bad!.status).toMatchObject({ code: 2, message: "429" });
  });
});
