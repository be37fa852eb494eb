import type { HeaderReader } from "./header-reader.ts";

/** TIFF tags read from IFD0: the image size (TIFF files) and the orientation (TIFF and EXIF). */
export const TAG_IMAGE_WIDTH = 0x0100;
export const TAG_IMAGE_LENGTH = 0x0101;
export const TAG_ORIENTATION = 0x0112;

const TYPE_SHORT = 3;
const TYPE_LONG = 4;
// Real IFD0s hold a few dozen entries; a count far beyond that is garbage, not a header to fetch.
const MAX_ENTRIES = 1000;

export class TiffStructureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TiffStructureError";
  }
}

/**
 * Reads the single-valued SHORT/LONG entries of IFD0 of a TIFF structure that starts at `base`
 * (a TIFF file at 0, or the payload of a JPEG APP1 / PNG eXIf / WebP EXIF block). `end`, when
 * given, is where the enclosing block stops: offsets beyond it are corrupt. Structural problems
 * throw TiffStructureError so callers can decide whether they are fatal (TIFF) or a warning (EXIF).
 */
export async function readIfd0(
  reader: HeaderReader,
  base: number,
  end: number | undefined,
  tags: readonly number[],
): Promise<Map<number, number>> {
  const within = (offset: number, length: number): void => {
    if (end !== undefined && base + offset + length > end) {
      throw new TiffStructureError(`offset ${offset} points outside the ${end - base}-byte block`);
    }
  };
  within(0, 8);
  const header = await reader.bytes(base, 8);
  const order = header.toString("latin1", 0, 2);
  if (order !== "II" && order !== "MM") throw new TiffStructureError(`bad byte order mark "${order}"`);
  const little = order === "II";
  const u16 = (b: Buffer, at: number): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number): number => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  if (u16(header, 2) !== 42) throw new TiffStructureError(`bad TIFF magic ${u16(header, 2)}`);
  const ifd = u32(header, 4);
  if (ifd < 8) throw new TiffStructureError(`IFD0 offset ${ifd} overlaps the header`);
  within(ifd, 2);
  const count = u16(await reader.bytes(base + ifd, 2), 0);
  if (count === 0 || count > MAX_ENTRIES) throw new TiffStructureError(`IFD0 claims ${count} entries`);
  within(ifd + 2, count * 12);
  const entries = await reader.bytes(base + ifd + 2, count * 12);
  const wanted = new Set(tags);
  const found = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const at = i * 12;
    const tag = u16(entries, at);
    if (!wanted.has(tag) || u32(entries, at + 4) !== 1) continue;
    const type = u16(entries, at + 2);
    if (type === TYPE_SHORT) found.set(tag, u16(entries, at + 8));
    else if (type === TYPE_LONG) found.set(tag, u32(entries, at + 8));
  }
  return found;
}
