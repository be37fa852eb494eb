import { createServer, type Server } from "node:http";
import type { GoogleGenAI } from "@google/genai";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * Prometheus metrics of one worker process, served on TESSERA_METRICS_PORT. Fleet-wide figures
 * that live in Redis (queue depth, budget left, per-run counts) are the dashboard's /metrics.
 */
/** From a cached image's few tens of ms to a segment request's minutes. */
const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #images = new Counter({
    name: "tessera_worker_images_total",
    help: "Images (or compare sets) handled by this process, by outcome (done, failed, blocked, skipped, already-recorded) or by the error class of an attempt that will be retried",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly #jobSeconds = new Histogram({
    name: "tessera_worker_annotate_seconds",
    help: "Time to handle one annotate job, a request of one or more images (download, resize, Gemini, write, record), by its result: settled or the error class of an attempt that will be retried",
    labelNames: ["outcome"] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #requestSeconds = new Histogram({
    name: "tessera_gemini_request_seconds",
    help: "Latency of generateContent calls, by result (ok, rate_limited, error)",
    labelNames: ["result"] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly #rateLimited = new Counter({
    name: "tessera_gemini_429_total",
    help: "generateContent calls answered 429 (rate limited)",
    registers: [this.registry],
  });
  readonly #tokens = new Counter({
    name: "tessera_gemini_tokens_total",
    help: "Tokens billed by Gemini (usageMetadata), by direction (in = prompt, out = candidates + thoughts)",
    labelNames: ["direction"] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** One annotate job: the outcome of each of its images, or the error class for all of them. */
  annotated(outcomes: readonly string[], seconds: number, result = "settled"): void {
    for (const outcome of outcomes) this.#images.inc({ outcome });
    this.#jobSeconds.observe({ outcome: result }, seconds);
  }

  request(result: "ok" | "rate_limited" | "error", seconds: number): void {
    this.#requestSeconds.observe({ result }, seconds);
    if (result === "rate_limited") this.#rateLimited.inc();
  }

  tokens(input: number, output: number): void {
    if (input > 0) this.#tokens.inc({ direction: "in" }, input);
    if (output > 0) this.#tokens.inc({ direction: "out" }, output);
  }
}

/**
 * Wraps every generateContent call of this client in an OpenTelemetry span (a child of the
 * job's bullmq-otel span when tracing is on; a no-op otherwise) and, given metrics, times it and
 * counts its tokens and 429s. Wrapping the SDK's method keeps all this out of the annotate path.
 */
export function instrumentGemini(client: GoogleGenAI, metrics?: WorkerMetrics): GoogleGenAI {
  const models = client.models;
  const original = models.generateContent.bind(models);
  const tracer = trace.getTracer("tessera-worker");
  models.generateContent = (params) =>
    tracer.startActiveSpan(
      "gemini generateContent",
      {
        kind: SpanKind.CLIENT,
        attributes: { "gen_ai.system": "gemini", "gen_ai.request.model": params.model },
      },
      async (span) => {
        const started = performance.now();
        try {
          const response = await original(params);
          metrics?.request("ok", (performance.now() - started) / 1000);
          const usage = response.usageMetadata;
          const input = usage?.promptTokenCount ?? 0;
          const output = (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0);
          metrics?.tokens(input, output);
          span.setAttributes({ "gen_ai.usage.input_tokens": input, "gen_ai.usage.output_tokens": output });
          return response;
        } catch (err) {
          const status = (err as { status?: unknown }).status;
          metrics?.request(status === 429 ? "rate_limited" : "error", (performance.now() - started) / 1000);
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: typeof status === "number" ? String(status) : "error",
          });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  return client;
}

/** Serves GET /metrics (and nothing else) for Prometheus to scrape. */
export async function serveMetrics(metrics: WorkerMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return server;
}
