export * from "./client.ts";
export * from "./errors.ts";
export * from "./generate.ts";
export * from "./files-cache.ts";
export * from "./transport.ts";
