// What the emulator "sees" in an image: its display size and its main colours, enough for a
// deterministic answer that tests can check.
import type { Metadata, SharpOptions } from "sharp";
import { decodeHeif } from "@tessera/imaging";
import sharp from "sharp";
import type { ColourShare } from "./palette.ts";
import { dominantColours } from "./palette.ts";
import { unprocessableImage } from "./errors.ts";
import type { InlineImage } from "./request.ts";

export interface ImageSizeInfo {
  /** Display size: after EXIF orientation, as the guide says the model sees it. */
  width: number;
  height: number;
}

export interface ImageAnalysis extends ImageSizeInfo {
  /**
   * Most common colours first; empty for a fully transparent image; null when the pixels cannot be
   * decoded here (HEVC-coded HEIC: sharp's prebuilt libvips has no HEVC decoder, while the real API
   * reads such files fine, so rejecting them would be the wrong answer).
   */
  colours: ColourShare[] | null;
}

// Torn uploads should fail like corrupt files rather than decode as half an image.
const INPUT = { failOn: "truncated" } as const satisfies SharpOptions;

/** Enough samples for stable shares; nearest-neighbour keeps flat colours exact instead of blending edges. */
const SAMPLE_SIDE = 32;

export async function measureImage(image: InlineImage): Promise<ImageSizeInfo> {
  let metadata: Metadata;
  try {
    metadata = await sharp(image.bytes, INPUT).metadata();
  } catch (error) {
    throw unprocessableImage(
      `${image.field}.data`,
      `cannot read the ${image.mimeType} header: ${firstLine(error)}`,
    );
  }
  const { width, height } = metadata.autoOrient;
  if (!width || !height) {
    throw unprocessableImage(`${image.field}.data`, `the ${image.mimeType} header has no dimensions`);
  }
  return { width, height };
}

export async function analyseImage(image: InlineImage): Promise<ImageAnalysis> {
  const size = await measureImage(image);
  try {
    const pixels = await sharp(image.bytes, INPUT)
      .resize(SAMPLE_SIDE, SAMPLE_SIDE, { fit: "fill", kernel: "nearest" })
      .toColourspace("srgb")
      .ensureAlpha()
      .raw({ depth: "uchar" })
      .toBuffer();
    return { ...size, colours: dominantColours(pixels, 4) };
  } catch (error) {
    if (isHeif(image.mimeType) && /HEVC|has not been built in/i.test(String(error))) {
      // sharp's prebuilt libvips has no HEVC decoder; the WebAssembly libheif does (slower).
      try {
        const decoded = decodeHeif(image.bytes);
        const pixels = await sharp(decoded.data, {
          raw: { width: decoded.width, height: decoded.height, channels: 3 },
        })
          .resize(SAMPLE_SIDE, SAMPLE_SIDE, { fit: "fill", kernel: "nearest" })
          .ensureAlpha()
          .raw({ depth: "uchar" })
          .toBuffer();
        return { ...size, colours: dominantColours(pixels, 4) };
      } catch {
        return { ...size, colours: null };
      }
    }
    throw unprocessableImage(
      `${image.field}.data`,
      `cannot decode the ${image.mimeType} pixels: ${firstLine(error)}`,
    );
  }
}

function isHeif(mimeType: string): boolean {
  return mimeType === "image/heic" || mimeType === "image/heif";
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? "unknown error"
  );
}
