import sharp, { type SharpOptions } from "sharp";

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

/**
 * Options for every sharp input. `failOn: "truncated"` rejects files that end early (a torn upload
 * would otherwise decode as a grey bottom half and be paid for), while tolerating the harmless
 * warnings that many camera JPEGs carry. The pixel cap stops decompression bombs before decoding.
 */
export const SHARP_INPUT = {
  failOn: "truncated",
  limitInputPixels: 100_000_000,
} as const satisfies SharpOptions;
