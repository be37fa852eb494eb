export * from "./auth.ts";
export * from "./views.ts";
export * from "./data.ts";
export * from "./server.ts";
export * from "./metrics.ts";
