import { TesseraError } from "@tessera/core";
import { HeaderBudgetError, type HeaderReader } from "./header-reader.ts";
import { orientationFromTag, type HeaderFacts } from "./probe-types.ts";
import { TAG_ORIENTATION, TiffStructureError, readIfd0 } from "./tiff-ifd.ts";

const BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * IHDR gives the size; an eXIf chunk before the first IDAT gives the orientation (libvips reads
 * it there too). Chunks are walked by their lengths, so large iCCP or text chunks are skipped, not
 * read. eXIf after the image data is not looked for: reaching it would mean reading past IDAT.
 */
export async function probePng(reader: HeaderReader): Promise<HeaderFacts> {
  const ihdr = await reader.bytes(8, 25);
  if (ihdr.readUInt32BE(0) !== 13 || ihdr.toString("latin1", 4, 8) !== "IHDR") {
    throw new TesseraError("bad_image", "corrupt png: the first chunk is not a 13-byte IHDR");
  }
  const width = ihdr.readUInt32BE(8);
  const height = ihdr.readUInt32BE(12);
  const depth = ihdr[16]!;
  const colorType = ihdr[17]!;
  if (!BIT_DEPTHS[colorType]?.includes(depth)) {
    throw new TesseraError("bad_image", `corrupt png: colour type ${colorType} with bit depth ${depth}`);
  }
  if (width > 0x7fffffff || height > 0x7fffffff) {
    throw new TesseraError("bad_image", `corrupt png: dimensions ${width}x${height} exceed the PNG maximum`);
  }
  const warnings: string[] = [];
  let orientationTag: number | undefined;
  let pos = 33;
  try {
    for (;;) {
      const head = await reader.bytes(pos, 8);
      const length = head.readUInt32BE(0);
      const type = head.toString("latin1", 4, 8);
      if (length > 0x7fffffff)
        throw new TesseraError("bad_image", `corrupt png: chunk ${JSON.stringify(type)} of ${length} bytes`);
      if (type === "IDAT" || type === "IEND") break;
      if (type === "eXIf") {
        try {
          const tags = await readIfd0(reader, pos + 8, pos + 8 + length, [TAG_ORIENTATION]);
          orientationTag = tags.get(TAG_ORIENTATION);
        } catch (err) {
          if (!(err instanceof TiffStructureError)) throw err;
          warnings.push(`unreadable eXIf chunk (${err.message}): orientation treated as 1`);
        }
        break;
      }
      pos += 12 + length;
    }
  } catch (err) {
    // The size is known already; a header too long to search only costs the orientation.
    if (!(err instanceof HeaderBudgetError)) throw err;
    warnings.push(`stopped looking for an eXIf chunk at offset ${pos}: ${err.message}`);
  }
  return { width, height, orientation: orientationFromTag(orientationTag, warnings), warnings };
}
