import { enableQueueTelemetry } from "@tessera/queue";

/**
 * OpenTelemetry traces over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set: a tracer provider
 * for this process, and bullmq-otel on every queue and worker it makes. The SDK is loaded only
 * then. Returns a flush-and-stop for shutdown.
 */
export async function startTracing(endpoint: string, serviceName: string): Promise<() => Promise<void>> {
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` })),
    ],
  });
  provider.register();
  enableQueueTelemetry("tessera");
  return () => provider.shutdown();
}
