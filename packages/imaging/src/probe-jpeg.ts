import { TesseraError } from "@tessera/core";
import type { HeaderReader } from "./header-reader.ts";
import { orientationFromTag, type HeaderFacts } from "./probe-types.ts";
import { TAG_ORIENTATION, TiffStructureError, readIfd0 } from "./tiff-ifd.ts";

// SOF0-3, 5-7, 9-11, 13-15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const SOS = 0xda;
const EOI = 0xd9;
const APP1 = 0xe1;
const EXIF_ID = Buffer.from("Exif\0\0", "latin1");

function standalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

/**
 * Walks the marker segments from SOI to the frame header (SOFn), reading only each segment's
 * 4-byte header and skipping its body by its length, so a 60 KiB EXIF thumbnail or a 3 MiB
 * MPF/XMP block in front of SOF costs one small read, not its size. The first APP1 "Exif" block
 * gives the orientation (IFD0 sits at its start).
 */
export async function probeJpeg(reader: HeaderReader): Promise<HeaderFacts> {
  const warnings: string[] = [];
  let orientationTag: number | undefined;
  let exifSeen = false;
  let pos = 2;
  for (;;) {
    const head = await reader.bytes(pos, 2);
    if (head[0] !== 0xff) {
      throw new TesseraError(
        "bad_image",
        `corrupt jpeg: no marker at offset ${pos} (found 0x${head.toString("hex")})`,
      );
    }
    const marker = head[1]!;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (standalone(marker)) {
      pos += 2;
      continue;
    }
    if (marker === SOS || marker === EOI) {
      throw new TesseraError(
        "bad_image",
        `corrupt jpeg: ${marker === SOS ? "scan data" : "end of image"} before any frame header (SOF)`,
      );
    }
    const length = (await reader.bytes(pos + 2, 2)).readUInt16BE(0);
    if (length < 2)
      throw new TesseraError("bad_image", `corrupt jpeg: segment length ${length} at offset ${pos}`);
    const body = pos + 4;
    const next = pos + 2 + length;
    if (SOF_MARKERS.has(marker)) {
      if (length < 8) throw new TesseraError("bad_image", `corrupt jpeg: frame header of ${length} bytes`);
      const sof = await reader.bytes(body, 6);
      return {
        height: sof.readUInt16BE(1),
        width: sof.readUInt16BE(3),
        orientation: orientationFromTag(orientationTag, warnings),
        warnings,
      };
    }
    if (marker === APP1 && !exifSeen && length >= 2 + EXIF_ID.length + 8) {
      const id = await reader.bytes(body, EXIF_ID.length);
      if (id.equals(EXIF_ID)) {
        exifSeen = true;
        try {
          const tags = await readIfd0(reader, body + EXIF_ID.length, next, [TAG_ORIENTATION]);
          orientationTag = tags.get(TAG_ORIENTATION);
        } catch (err) {
          if (!(err instanceof TiffStructureError)) throw err;
          warnings.push(`unreadable EXIF block (${err.message}): orientation treated as 1`);
        }
      }
    }
    pos = next;
  }
}
