import sharp from "sharp";

export { SHARP_INPUT } from "./sharp-input.ts";

/**
 * The one place sharp's process-wide settings are made. Workers run several images at once, so
 * libvips gets one thread per operation instead of one per core each, and its operation cache
 * (useful for repeated edits of one file, useless for a stream of different images) is off so
 * memory stays bounded.
 */
let configured = false;
export function configureSharp(): void {
  if (configured) return;
  sharp.concurrency(1);
  sharp.cache(false);
  configured = true;
}
