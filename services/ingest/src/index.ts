export * from "./deps.ts";
export * from "./classify.ts";
export * from "./start-run.ts";
export * from "./plan.ts";
