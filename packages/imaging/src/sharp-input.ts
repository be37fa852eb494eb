import type { SharpOptions } from "sharp";

/**
 * Options for every sharp input. `failOn: "truncated"` rejects files that end early (a torn upload
 * would otherwise decode as a grey bottom half and be paid for), while tolerating the harmless
 * warnings that many camera JPEGs carry. The pixel cap stops decompression bombs before decoding.
 * Apart from sharp-settings.ts so that header probes (which share the cap) do not load sharp.
 */
export const SHARP_INPUT = {
  failOn: "truncated",
  limitInputPixels: 100_000_000,
} as const satisfies SharpOptions;
