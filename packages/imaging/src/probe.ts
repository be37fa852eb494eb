import { TesseraError } from "@tessera/core";
import { HeaderReader, type RangeReader } from "./header-reader.ts";
import { orientedSize, type Orientation } from "./orientation.ts";
import { probeHeif } from "./probe-heif.ts";
import { probeJpeg } from "./probe-jpeg.ts";
import { probeBmp, probeGif, probeTiff } from "./probe-legacy.ts";
import { probePng } from "./probe-png.ts";
import type { HeaderFacts } from "./probe-types.ts";
import { probeWebp } from "./probe-webp.ts";
import { SHARP_INPUT } from "./sharp-input.ts";
import { describeUnknownBytes, sniffImage, type ImageFormat, type SniffResult } from "./sniff.ts";

export interface ProbeOptions {
  /**
   * The object's size, when known (listings give it): reads never ask past it. Pass it for S3:
   * a hostile header pointing beyond the end would otherwise draw a 416 from the store, an error
   * that is not the image's.
   */
  size?: number;
  /** The first read's length. */
  initialBytes?: number;
  /** The most bytes all reads together may fetch; a header needing more is a bad image. */
  maxHeaderBytes?: number;
  /** width * height above this is a decompression bomb (the same cap sharp decodes under). */
  maxPixels?: number;
}

export interface ProbeResult extends SniffResult {
  /** As stored in the file, before orientation. */
  width: number;
  height: number;
  /** EXIF orientation, or HEIF irot/imir reduced to one; 1 when absent. */
  orientation: Orientation;
  /** As a person sees the image: after orientation. */
  displayWidth: number;
  displayHeight: number;
  /** Bytes fetched through `read`, all reads together. */
  bytesRead: number;
  /** Problems that do not stop the image from being used. */
  warnings: string[];
}

export const PROBE_DEFAULTS = {
  // Holds a typical JPEG's EXIF block start, most PNG/WebP/GIF/BMP headers and a HEIF meta box.
  initialBytes: 8 * 1024,
  maxHeaderBytes: 1024 * 1024,
  maxPixels: SHARP_INPUT.limitInputPixels,
  // Each later read fetches at least this much: the next header usually has neighbours.
  minRead: 4 * 1024,
} as const;

const PARSERS: Record<ImageFormat, (reader: HeaderReader) => Promise<HeaderFacts>> = {
  jpeg: probeJpeg,
  png: probePng,
  webp: probeWebp,
  gif: probeGif,
  bmp: probeBmp,
  tiff: probeTiff,
  heic: probeHeif,
  heif: probeHeif,
  avif: probeHeif,
};

/**
 * Reads an image's format, size and orientation from its header through ranged reads, without
 * downloading or decoding it: one small read for most files, a few more when large metadata sits
 * in front of the size. Corrupt, truncated, lying (zero-sized), oversized (decompression bomb) or
 * unknown headers throw TesseraError("bad_image"); errors thrown by `read` pass through unchanged.
 */
export async function probeImage(read: RangeReader, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const maxHeaderBytes = opts.maxHeaderBytes ?? PROBE_DEFAULTS.maxHeaderBytes;
  const maxPixels = opts.maxPixels ?? PROBE_DEFAULTS.maxPixels;
  const initialBytes = Math.min(opts.initialBytes ?? PROBE_DEFAULTS.initialBytes, maxHeaderBytes);
  if (opts.size === 0)
    throw new TesseraError("bad_image", `not an image: ${describeUnknownBytes(Buffer.alloc(0))}`);
  const reader = new HeaderReader(read, {
    size: opts.size,
    maxBytes: maxHeaderBytes,
    minRead: Math.min(PROBE_DEFAULTS.minRead, initialBytes),
    label: "image",
  });
  const head = await reader.upTo(0, initialBytes);
  // All of the first read, not just SNIFF_BYTES: an ftyp box can list more brands than that.
  const sniffed = sniffImage(head);
  if (!sniffed)
    throw new TesseraError("bad_image", `not an image (unknown format): ${describeUnknownBytes(head)}`);
  reader.label = sniffed.format;
  const facts = await PARSERS[sniffed.format](reader);
  const { width, height } = facts;
  if (width <= 0 || height <= 0) {
    throw new TesseraError("bad_image", `lying ${sniffed.format} header: ${width}x${height} pixels`);
  }
  if (width * height > maxPixels) {
    throw new TesseraError(
      "bad_image",
      `decompression bomb: ${sniffed.format} header declares ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}`,
    );
  }
  const display = orientedSize({ width, height }, facts.orientation);
  return {
    ...sniffed,
    width,
    height,
    orientation: facts.orientation,
    displayWidth: display.width,
    displayHeight: display.height,
    bytesRead: reader.bytesRead,
    warnings: facts.warnings,
  };
}
