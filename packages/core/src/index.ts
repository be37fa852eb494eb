export * from "./errors.ts";
export * from "./annotation.ts";
export * from "./manifest.ts";
export * from "./run.ts";
export * from "./log.ts";
