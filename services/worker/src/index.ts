export * from "./deps.ts";
export * from "./layout.ts";
export * from "./annotate.ts";
export * from "./finalize.ts";
export * from "./worker.ts";
export * from "./exports.ts";
export * from "./leased.ts";
export * from "./annotation-cache.ts";
