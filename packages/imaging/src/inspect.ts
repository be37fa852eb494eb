import sharp, { type Metadata } from "sharp";
import { TesseraError } from "@tessera/core";
import { SHARP_INPUT, configureSharp } from "./sharp-settings.ts";
import { describeUnknownBytes, sniffImage, type SniffResult } from "./sniff.ts";

export interface ImageInfo extends SniffResult {
  /** Display size: after EXIF orientation, as a person (and Gemini's guide) sees the image. */
  width: number;
  height: number;
  orientation: number;
  bytes: number;
  /** Problems that do not stop the image from being sent. */
  warnings: string[];
}

/**
 * Checks the bytes are an image Gemini can take and reads its display size. Decodes a thumbnail
 * (cheap with shrink-on-load) because headers alone let truncated files through; HEIC compressed
 * with HEVC cannot be decoded by sharp's prebuilt libvips, so it is sent on the strength of its
 * headers and says so in a warning.
 */
export async function inspectImage(bytes: Buffer): Promise<ImageInfo> {
  configureSharp();
  const sniffed = sniffImage(bytes);
  if (!sniffed) throw new TesseraError("bad_image", `not an image: ${describeUnknownBytes(bytes)}`);
  if (!sniffed.geminiSupported) {
    throw new TesseraError(
      "bad_image",
      `unsupported image format ${sniffed.mime} (Gemini takes PNG, JPEG, WEBP, HEIC, HEIF)`,
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, SHARP_INPUT).metadata();
  } catch (err) {
    throw new TesseraError("bad_image", `unreadable ${sniffed.format} header: ${sharpMessage(err)}`, {
      cause: err,
    });
  }
  const width = meta.autoOrient.width;
  const height = meta.autoOrient.height;
  if (!width || !height) throw new TesseraError("bad_image", `${sniffed.format} header has no dimensions`);
  const warnings: string[] = [];
  try {
    await sharp(bytes, SHARP_INPUT).resize(16, 16, { fit: "inside" }).raw().toBuffer();
  } catch (err) {
    const full = err instanceof Error ? err.message : String(err);
    const hevc = (sniffed.format === "heic" || sniffed.format === "heif") && /HEVC/.test(full);
    if (!hevc)
      throw new TesseraError("bad_image", `undecodable ${sniffed.format}: ${sharpMessage(err)}`, {
        cause: err,
      });
    warnings.push("HEVC-coded HEIC sent without a local decode check (no HEVC decoder here)");
  }
  return { ...sniffed, width, height, orientation: meta.orientation ?? 1, bytes: bytes.length, warnings };
}

function sharpMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // libvips repeats the file name and stacks lines; the first meaningful line is enough.
  return (
    text
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? "unknown error"
  );
}
