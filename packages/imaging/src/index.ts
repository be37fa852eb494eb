export * from "./sniff.ts";
export * from "./tokens.ts";
export * from "./inspect.ts";
export * from "./sharp-settings.ts";
export * from "./request-tokens.ts";
