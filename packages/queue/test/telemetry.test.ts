import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { useTestPrefix } from "@tessera/testing";
import { createConsumer, enableQueueTelemetry, Producer } from "../src/index.ts";

// bullmq-otel on the real Redis: the span of an add and the span of processing that job share
// one trace, so a run's jobs can be followed from the producer into the worker.
let redisEnv: Awaited<ReturnType<typeof useTestPrefix>>;
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(async () => {
  redisEnv = await useTestPrefix("otel");
  provider.register();
  enableQueueTelemetry("tessera-test");
});

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  await redisEnv?.cleanup();
});

describe("queue telemetry", () => {
  it("traces a job from the producer's add to the worker that processes it", async () => {
    const producer = new Producer(redisEnv.redis, redisEnv.prefix);
    let processed!: () => void;
    const done = new Promise<void>((resolve) => (processed = resolve));
    const consumer = createConsumer({
      connection: redisEnv.redis.duplicate({ maxRetriesPerRequest: null }),
      prefix: redisEnv.prefix,
      queue: "runs",
      concurrency: 1,
      handlers: {
        "finalize-run": () => {
          processed();
          return Promise.resolve();
        },
      },
    });
    void consumer.run();
    await producer.add("finalize-run", { jobId: "otel-1", payload: { runId: "otel-run" } });
    await done;
    await consumer.close();
    await producer.close();
    await provider.forceFlush();

    const spans = exporter.getFinishedSpans();
    const add = spans.find((s) => /add/i.test(s.name) && s.name.includes("runs"));
    const process = spans.find((s) => /process/i.test(s.name) && s.name.includes("runs"));
    expect(add, spans.map((s) => s.name).join(", ")).toBeDefined();
    expect(process, spans.map((s) => s.name).join(", ")).toBeDefined();
    expect(process!.spanContext().traceId).toBe(add!.spanContext().traceId);
  });
});
