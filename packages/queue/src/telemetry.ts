import type { Telemetry } from "bullmq";
import { BullMQOtel } from "bullmq-otel";

let telemetry: Telemetry | undefined;

/**
 * Turns on OpenTelemetry traces of every queue and worker this process creates afterwards
 * (bullmq-otel: a span per add and per processed job, the job carrying its trace context from
 * producer to worker). The spans go to whatever tracer provider the process registered; without
 * one, the OpenTelemetry API drops them. Call once at start-up, before queues are made.
 */
export function enableQueueTelemetry(tracerName = "tessera"): void {
  telemetry = new BullMQOtel(tracerName);
}

/** The telemetry option for BullMQ queues and workers, when enabled. */
export function queueTelemetry(): { telemetry?: Telemetry } {
  return telemetry === undefined ? {} : { telemetry };
}
