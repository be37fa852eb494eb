export * from "./env.ts";
export * from "./load.ts";
export * from "./configuration-doc.ts";
export * from "./rate-tiers.ts";
export * from "./prices.ts";
export * from "./model-limits.ts";
