export * from "./redis.ts";
export * from "./images.ts";
export * from "./s3.ts";
export * from "./scenes.ts";
export * from "./secrets.ts";
