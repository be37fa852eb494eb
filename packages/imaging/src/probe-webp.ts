import { TesseraError } from "@tessera/core";
import { HeaderBudgetError, type HeaderReader } from "./header-reader.ts";
import { orientationFromTag, type HeaderFacts } from "./probe-types.ts";
import { TAG_ORIENTATION, TiffStructureError, readIfd0 } from "./tiff-ifd.ts";

const VP8X_EXIF_FLAG = 0x08;
// Animated files hold one ANMF chunk per frame before EXIF; past this many hops the orientation
// is not worth the round trips.
const MAX_CHUNK_HOPS = 16;

/**
 * Size from the first chunk: VP8 (lossy key frame), VP8L (lossless) or VP8X (extended: canvas
 * size). EXIF, which libvips honours, can only appear in extended files, after the image data: it
 * is looked for only when VP8X says it exists, by hopping over chunk headers (one small ranged
 * read per large chunk), and a search that runs out of hops or budget leaves orientation 1 with a
 * warning.
 */
export async function probeWebp(reader: HeaderReader): Promise<HeaderFacts> {
  const head = await reader.bytes(12, 8);
  const fourcc = head.toString("latin1", 0, 4);
  const data = 20;
  const warnings: string[] = [];
  if (fourcc === "VP8 ") {
    const frame = await reader.bytes(data, 10);
    if ((frame[0]! & 1) !== 0 || frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) {
      throw new TesseraError("bad_image", "corrupt webp: VP8 chunk does not start with a key frame");
    }
    return {
      width: frame.readUInt16LE(6) & 0x3fff,
      height: frame.readUInt16LE(8) & 0x3fff,
      orientation: 1,
      warnings,
    };
  }
  if (fourcc === "VP8L") {
    const bits = await reader.bytes(data, 5);
    if (bits[0] !== 0x2f) throw new TesseraError("bad_image", "corrupt webp: bad VP8L signature");
    const packed = bits.readUInt32LE(1);
    return { width: (packed & 0x3fff) + 1, height: ((packed >>> 14) & 0x3fff) + 1, orientation: 1, warnings };
  }
  if (fourcc !== "VP8X")
    throw new TesseraError("bad_image", `corrupt webp: unknown first chunk ${JSON.stringify(fourcc)}`);
  const vp8x = await reader.bytes(data, 10);
  const width = vp8x.readUIntLE(4, 3) + 1;
  const height = vp8x.readUIntLE(7, 3) + 1;
  let orientationTag: number | undefined;
  if ((vp8x[0]! & VP8X_EXIF_FLAG) !== 0) {
    try {
      const riffEnd = (await reader.bytes(4, 4)).readUInt32LE(0) + 8;
      orientationTag = await findExifOrientation(reader, data + head.readUInt32LE(4), riffEnd, warnings);
    } catch (err) {
      if (!(err instanceof HeaderBudgetError)) throw err;
      warnings.push(`EXIF orientation not read: ${err.message}`);
    }
  }
  return { width, height, orientation: orientationFromTag(orientationTag, warnings), warnings };
}

/** Hops from chunk to chunk up to the end the RIFF header declares; reaching the end short is truncation. */
async function findExifOrientation(
  reader: HeaderReader,
  start: number,
  riffEnd: number,
  warnings: string[],
): Promise<number | undefined> {
  let pos = start + (start % 2);
  for (let hop = 0; hop < MAX_CHUNK_HOPS; hop++) {
    if (pos + 8 > riffEnd) {
      warnings.push("VP8X announces EXIF but the file has no EXIF chunk");
      return undefined;
    }
    const head = await reader.bytes(pos, 8);
    const type = head.toString("latin1", 0, 4);
    const length = head.readUInt32LE(4);
    if (type === "EXIF") {
      // Some writers keep JPEG's "Exif\0\0" prefix inside the chunk.
      const prefix = await reader.bytes(pos + 8, 6);
      const base = prefix.toString("latin1") === "Exif\0\0" ? pos + 14 : pos + 8;
      try {
        return (await readIfd0(reader, base, pos + 8 + length, [TAG_ORIENTATION])).get(TAG_ORIENTATION);
      } catch (err) {
        if (!(err instanceof TiffStructureError)) throw err;
        warnings.push(`unreadable EXIF chunk (${err.message}): orientation treated as 1`);
        return undefined;
      }
    }
    pos += 8 + length + (length % 2);
  }
  warnings.push(`EXIF orientation not read: no EXIF chunk within ${MAX_CHUNK_HOPS} chunks`);
  return undefined;
}
