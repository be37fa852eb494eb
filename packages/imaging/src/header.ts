// Everything that works from headers and sizes alone, without loading sharp or libheif: what the
// ingest (probes, token estimates, planning) and answer parsing (box transforms) need. The package
// root adds decoding and resizing.
export * from "./sniff.ts";
export * from "./tokens.ts";
export * from "./request-tokens.ts";
export * from "./header-reader.ts";
export * from "./orientation.ts";
export * from "./probe.ts";
export * from "./sizing.ts";
export * from "./transform.ts";
export { SHARP_INPUT } from "./sharp-input.ts";
