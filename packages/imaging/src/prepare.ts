import sharp, { type Metadata, type OutputInfo, type Sharp } from "sharp";
import { TesseraError } from "@tessera/core";
import { decodeBmp } from "./bmp-decode.ts";
import { decodeHeif } from "./heic-decode.ts";
import { bufferReader } from "./header-reader.ts";
import type { Size } from "./orientation.ts";
import { probeImage, type ProbeResult } from "./probe.ts";
import { SHARP_INPUT, configureSharp } from "./sharp-settings.ts";
import { STANDARD_MAX_SIDE, sentSize, type Detail } from "./sizing.ts";
import type { ImageFormat } from "./sniff.ts";
import { transformFor, type ImageTransform } from "./transform.ts";

/** What to do with formats Gemini does not take (GIF, BMP, TIFF, AVIF). */
export type ConvertPolicy = "convert" | "skip";

export interface PrepareOptions {
  detail: Detail;
  /** The longer side's cap under "standard". */
  maxSide?: number;
  convert: ConvertPolicy;
  /** Quality of JPEG output (photos). */
  jpegQuality?: number;
  /** Decompression-bomb cap, as in probeImage. */
  maxPixels?: number;
  /**
   * Decode a thumbnail when the bytes go out unchanged, so a torn upload fails here instead of
   * being paid for (default true). Re-encoded images are fully decoded anyway.
   */
  verify?: boolean;
}

export interface PreparedImage {
  bytes: Buffer;
  mime: string;
  /** The size sent. */
  width: number;
  height: number;
  transform: ImageTransform;
  /** False when the original bytes are sent as they are. */
  reencoded: boolean;
  /** The original's header facts. */
  source: ProbeResult;
  warnings: string[];
}

export const DEFAULT_JPEG_QUALITY = 90;

// Formats whose content is usually line art, screenshots or masks: kept lossless.
const LOSSLESS_SOURCES: ReadonlySet<ImageFormat> = new Set(["png", "gif", "bmp", "tiff"]);
const HEIF_FORMATS: ReadonlySet<ImageFormat> = new Set(["heic", "heif", "avif"]);

/**
 * Makes an image ready to send: applies its orientation (so the model sees it upright), scales it
 * for the detail level, converts formats Gemini does not take, and records the transform that maps
 * answers back to the original's display pixels. When nothing needs changing (upright, already
 * small enough, a Gemini format) the original bytes go out untouched.
 *
 * Output: PNG for lossless sources (PNG, GIF, BMP, TIFF) and anything with alpha; JPEG at quality
 * 90 for photos (JPEG, WebP, HEIC/HEIF, AVIF). Metadata is not copied: the output carries no EXIF
 * orientation (already applied) and no GPS.
 */
export async function prepareImage(bytes: Buffer, opts: PrepareOptions): Promise<PreparedImage> {
  configureSharp();
  const source = await probeImage(bufferReader(bytes), {
    size: bytes.length,
    ...(opts.maxPixels === undefined ? {} : { maxPixels: opts.maxPixels }),
  });
  const warnings = [...source.warnings];
  if (!source.geminiSupported && opts.convert === "skip") {
    throw new TesseraError("bad_image", `unsupported image format ${source.mime} (policy: skip)`);
  }
  const display: Size = { width: source.displayWidth, height: source.displayHeight };
  const target = sentSize(display, opts.detail, opts.maxSide ?? STANDARD_MAX_SIDE);
  const transform = transformFor(
    { width: source.width, height: source.height },
    source.orientation,
    display,
    target,
  );
  const resize = target.width !== display.width || target.height !== display.height;
  if (!resize && source.orientation === 1 && source.geminiSupported) {
    if (opts.verify ?? true) await verifyDecodes(bytes, source, warnings);
    return { bytes, mime: source.mime, ...target, transform, reencoded: false, source, warnings };
  }
  const render = (decoded: Decoded): Promise<{ data: Buffer; info: OutputInfo; png: boolean }> => {
    const png = LOSSLESS_SOURCES.has(source.format) || decoded.hasAlpha;
    let pipeline = decoded.image;
    if (resize) pipeline = pipeline.resize(target.width, target.height, { fit: "fill" });
    pipeline = png ? pipeline.png() : pipeline.jpeg({ quality: opts.jpegQuality ?? DEFAULT_JPEG_QUALITY });
    return pipeline.toBuffer({ resolveWithObject: true }).then((out) => ({ ...out, png }));
  };
  const decoded = await decode(bytes, source);
  let out: { data: Buffer; info: OutputInfo; png: boolean };
  try {
    out = await render(decoded);
  } catch (err) {
    // Trying sharp first costs nothing when it cannot: libheif fails at the missing plugin,
    // before decoding anything. AV1-coded HEIF and AVIF stay on the faster native path. Any
    // failure of a HEIF goes to libheif, not only one that names HEVC: with several decodes in
    // flight libvips' shared error buffer often reports "Unknown error" instead, and a valid
    // phone photo would be failed for it. A file libheif cannot decode either fails with its reason.
    if (decoded.fallback === undefined) {
      throw new TesseraError("bad_image", `undecodable ${source.format}: ${failureLine(err)}`, {
        cause: err,
      });
    }
    warnings.push("HEVC-coded HEIF decoded with libheif (WebAssembly)");
    const fallback = decoded.fallback();
    out = await render(fallback).catch((cause: unknown) => {
      throw new TesseraError("bad_image", `undecodable ${source.format}: ${failureLine(cause)}`, { cause });
    });
  }
  if (out.info.width !== target.width || out.info.height !== target.height) {
    throw new Error(
      `prepareImage produced ${out.info.width}x${out.info.height}, expected ${target.width}x${target.height}`,
    );
  }
  return {
    bytes: out.data,
    mime: out.png ? "image/png" : "image/jpeg",
    ...target,
    transform,
    reencoded: true,
    source,
    warnings,
  };
}

interface Decoded {
  /** Upright (orientation applied) at the display size. */
  image: Sharp;
  hasAlpha: boolean;
  /** For HEIF: the same image decoded by libheif (WebAssembly), for codecs sharp lacks. */
  fallback?: () => Decoded;
}

/**
 * A sharp pipeline over the upright image. Each decoder's size is checked against the probed
 * display size: a disagreement means a lying header or a second rotation, and would otherwise
 * skew every coordinate mapped back through the transform.
 */
async function decode(bytes: Buffer, source: ProbeResult): Promise<Decoded> {
  const expected = `${source.displayWidth}x${source.displayHeight}`;
  const check = (width: number, height: number, decoder: string): void => {
    if (`${width}x${height}` !== expected) {
      throw new TesseraError(
        "bad_image",
        `${source.format} header says ${expected} upright, ${decoder} decodes ${width}x${height}`,
      );
    }
  };
  if (source.format === "bmp") {
    const raw = decodeBmp(bytes);
    check(raw.width, raw.height, "the BMP decoder");
    return { image: rawPipeline(raw), hasAlpha: raw.channels === 4 };
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, SHARP_INPUT).metadata();
  } catch (err) {
    throw new TesseraError("bad_image", `unreadable ${source.format} header: ${failureLine(err)}`, {
      cause: err,
    });
  }
  const image = sharp(bytes, SHARP_INPUT);
  if (!HEIF_FORMATS.has(source.format)) {
    check(meta.autoOrient.width, meta.autoOrient.height, "sharp");
    return { image: image.autoOrient(), hasAlpha: meta.hasAlpha };
  }
  // libheif applies irot/imir while decoding (sharp then reports no orientation): no autoOrient.
  check(meta.width, meta.height, "sharp");
  const fallback = (): Decoded => {
    const raw = decodeHeif(bytes);
    check(raw.width, raw.height, "libheif");
    return { image: rawPipeline(raw), hasAlpha: false };
  };
  return { image, hasAlpha: meta.hasAlpha, fallback };
}

function rawPipeline(raw: { data: Buffer; width: number; height: number; channels: 3 | 4 }): Sharp {
  return sharp(raw.data, {
    ...SHARP_INPUT,
    raw: { width: raw.width, height: raw.height, channels: raw.channels },
  });
}

async function verifyDecodes(bytes: Buffer, source: ProbeResult, warnings: string[]): Promise<void> {
  try {
    await sharp(bytes, SHARP_INPUT).resize(16, 16, { fit: "inside" }).raw().toBuffer();
  } catch (err) {
    if (HEIF_FORMATS.has(source.format) && isMissingHevc(err)) {
      warnings.push("HEVC-coded HEIC sent without a local decode check (no HEVC decoder in sharp)");
      return;
    }
    if (HEIF_FORMATS.has(source.format)) {
      // The message may be libvips' "Unknown error" under load (see prepareImage): libheif decides.
      decodeHeif(bytes);
      warnings.push("HEIF checked with libheif (WebAssembly): sharp could not decode it");
      return;
    }
    throw new TesseraError("bad_image", `undecodable ${source.format}: ${failureLine(err)}`, { cause: err });
  }
}

function isMissingHevc(err: unknown): boolean {
  return err instanceof Error && /HEVC/.test(err.message);
}

function failureLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // libvips stacks lines ("source: bad seek ..."); the last one names the actual failure.
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return lines.at(-1) ?? "unknown error";
}
