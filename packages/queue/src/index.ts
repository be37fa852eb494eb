export * from "./keys.ts";
export * from "./connection.ts";
export * from "./catalog.ts";
export * from "./producer.ts";
export * from "./consumer.ts";
export * from "./run-store.ts";
export * from "./rate-limiter.ts";
export * from "./finalize-job.ts";
