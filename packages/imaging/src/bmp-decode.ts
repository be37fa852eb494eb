import { TesseraError } from "@tessera/core";

// Decodes Windows/OS2 bitmaps, which sharp's prebuilt libvips does not read, to raw pixels for
// conversion. Covers what writers produce in practice: uncompressed 1, 4, 8 (palette), 16, 24 and
// 32 bits per pixel, and BI_BITFIELDS/ALPHABITFIELDS masks at 16 and 32 bits. RLE-compressed and
// embedded JPEG/PNG bitmaps are refused with a bad_image error naming the variant.

/** Interleaved 8-bit pixels, top row first. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: "RLE8", 2: "RLE4", 4: "JPEG", 5: "PNG" };

function bad(message: string): TesseraError {
  return new TesseraError("bad_image", `bmp: ${message}`);
}

export function decodeBmp(bytes: Buffer): RawImage {
  if (bytes.length < 26 || bytes.toString("latin1", 0, 2) !== "BM") throw bad("not a BMP file");
  const pixelOffset = bytes.readUInt32LE(10);
  const dibSize = bytes.readUInt32LE(14);
  const core = dibSize === 12;
  if (!core && (dibSize < 40 || bytes.length < 14 + dibSize))
    throw bad(`truncated or unknown DIB header (${dibSize} bytes)`);
  const width = core ? bytes.readUInt16LE(18) : bytes.readInt32LE(18);
  const signedHeight = core ? bytes.readUInt16LE(20) : bytes.readInt32LE(22);
  const bits = bytes.readUInt16LE(core ? 24 : 28);
  const compression = core ? BI_RGB : bytes.readUInt32LE(30);
  const height = Math.abs(signedHeight);
  const topDown = signedHeight < 0;
  if (width <= 0 || height === 0) throw bad(`bad size ${width}x${signedHeight}`);

  let masks: number[] | undefined;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bits !== 16 && bits !== 32) throw bad(`bit fields with ${bits} bits per pixel`);
    const count = compression === BI_ALPHABITFIELDS || dibSize >= 56 ? 4 : 3;
    if (bytes.length < 14 + 40 + count * 4) throw bad("truncated colour masks");
    masks = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(14 + 40 + i * 4));
  } else if (compression === BI_RGB) {
    if (bits === 16) masks = [0x7c00, 0x03e0, 0x001f];
  } else {
    throw bad(`${COMPRESSION_NAMES[compression] ?? `compression ${compression}`} bitmaps are not supported`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bits)) throw bad(`${bits} bits per pixel is not supported`);

  let palette: Buffer | undefined;
  if (bits <= 8) {
    const entrySize = core ? 3 : 4;
    const used = core ? 0 : bytes.readUInt32LE(46);
    const entries = used === 0 || used > 1 << bits ? 1 << bits : used;
    const start = 14 + dibSize;
    if (bytes.length < start + entries * entrySize) throw bad("truncated palette");
    palette = Buffer.alloc((1 << bits) * 3);
    for (let i = 0; i < entries; i++) {
      const at = start + i * entrySize;
      palette[i * 3] = bytes[at + 2]!;
      palette[i * 3 + 1] = bytes[at + 1]!;
      palette[i * 3 + 2] = bytes[at]!;
    }
  }

  const stride = Math.floor((bits * width + 31) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) {
    throw bad(`truncated pixel data: needs ${pixelOffset + stride * height} bytes, has ${bytes.length}`);
  }
  const alphaMask = masks?.[3] ?? 0;
  const channels: 3 | 4 = alphaMask !== 0 ? 4 : 3;
  const out = Buffer.alloc(width * height * channels);
  const fields = masks?.map(maskField);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (palette) {
        const index = (bytes[row + ((x * bits) >> 3)]! >> (8 - bits - ((x * bits) & 7))) & ((1 << bits) - 1);
        palette.copy(out, o, index * 3, index * 3 + 3);
      } else if (fields) {
        const value = bits === 16 ? bytes.readUInt16LE(row + x * 2) : bytes.readUInt32LE(row + x * 4);
        for (let c = 0; c < channels; c++) out[o + c] = fields[c]!(value);
      } else {
        const at = row + x * (bits >> 3);
        out[o] = bytes[at + 2]!;
        out[o + 1] = bytes[at + 1]!;
        out[o + 2] = bytes[at]!;
      }
    }
  }
  return { data: out, width, height, channels };
}

/** Extracts one mask's bits from a pixel value and scales them to 0..255. */
function maskField(mask: number): (value: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (value) => Math.round((((value & mask) >>> shift) * 255) / max);
}
