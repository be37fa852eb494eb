/**
 * Recognises images by their first bytes, never by the key's extension: datasets are full of
 * `.jpg` files that are PNGs, and of extension-less keys.
 */
export type ImageFormat = "png" | "jpeg" | "webp" | "heic" | "heif" | "avif" | "gif" | "bmp" | "tiff";

export interface SniffResult {
  format: ImageFormat;
  mime: string;
  /** Formats Gemini accepts as they are. */
  geminiSupported: boolean;
}

/** Bytes needed to recognise every format below. */
export const SNIFF_BYTES = 32;

const MIME: Record<ImageFormat, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
  avif: "image/avif",
  gif: "image/gif",
  bmp: "image/bmp",
  tiff: "image/tiff",
};

const GEMINI_FORMATS: ReadonlySet<ImageFormat> = new Set(["png", "jpeg", "webp", "heic", "heif"]);

// ISO-BMFF major/compatible brands (ISO/IEC 23008-12 and the AVIF spec).
const HEIC_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]);
const HEIF_BRANDS = new Set(["mif1", "msf1", "mif2"]);
const AVIF_BRANDS = new Set(["avif", "avis"]);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

function result(format: ImageFormat): SniffResult {
  return { format, mime: MIME[format], geminiSupported: GEMINI_FORMATS.has(format) };
}

function sniffIsoBmff(bytes: Uint8Array): SniffResult | undefined {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== "ftyp") return undefined;
  const boxSize = Math.min(
    ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0,
    bytes.length,
  );
  const brands = [ascii(bytes, 8, 12)];
  for (let i = 16; i + 4 <= boxSize; i += 4) brands.push(ascii(bytes, i, i + 4));
  // The major brand decides; compatible brands break ties (an AVIF lists mif1 too).
  if (brands.some((b) => AVIF_BRANDS.has(b)) && !HEIC_BRANDS.has(brands[0]!)) return result("avif");
  if (brands.some((b) => HEIC_BRANDS.has(b))) return result("heic");
  if (brands.some((b) => HEIF_BRANDS.has(b))) return result("heif");
  return undefined;
}

export function sniffImage(bytes: Uint8Array): SniffResult | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return result("png");
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return result("jpeg");
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP")
    return result("webp");
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a"))
    return result("gif");
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return result("tiff");
  if (bytes.length >= 14 && ascii(bytes, 0, 2) === "BM") return result("bmp");
  return sniffIsoBmff(bytes);
}

/** A short description of unrecognised bytes for the manifest, e.g. `starts with "%PDF-1.7"`. */
export function describeUnknownBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return "empty object (0 bytes)";
  const head = bytes.subarray(0, 8);
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  return printable
    ? `starts with ${JSON.stringify(ascii(head, 0, head.length))}`
    : `starts with bytes ${Buffer.from(head).toString("hex")}`;
}
