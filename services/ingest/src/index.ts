export * from "./deps.ts";
export * from "./classify.ts";
export * from "./scan.ts";
export * from "./start-run.ts";
export * from "./retry-failed.ts";
export * from "./plan.ts";
export * from "./estimate.ts";
