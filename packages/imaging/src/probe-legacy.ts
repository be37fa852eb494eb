// Headers of the formats Gemini does not take (GIF, BMP, TIFF): probed so the conversion policy
// can size them before deciding to decode.
import { TesseraError } from "@tessera/core";
import type { HeaderReader } from "./header-reader.ts";
import { orientationFromTag, type HeaderFacts } from "./probe-types.ts";
import {
  TAG_IMAGE_LENGTH,
  TAG_IMAGE_WIDTH,
  TAG_ORIENTATION,
  TiffStructureError,
  readIfd0,
} from "./tiff-ifd.ts";

/** The logical screen (canvas) size every frame is drawn into. */
export async function probeGif(reader: HeaderReader): Promise<HeaderFacts> {
  const screen = await reader.bytes(6, 4);
  return { width: screen.readUInt16LE(0), height: screen.readUInt16LE(2), orientation: 1, warnings: [] };
}

/** OS/2 BITMAPCOREHEADER (12 bytes, 16-bit sizes) or a Windows BITMAPINFOHEADER and its successors. */
export async function probeBmp(reader: HeaderReader): Promise<HeaderFacts> {
  const dibSize = (await reader.bytes(14, 4)).readUInt32LE(0);
  if (dibSize === 12) {
    const core = await reader.bytes(18, 4);
    return { width: core.readUInt16LE(0), height: core.readUInt16LE(2), orientation: 1, warnings: [] };
  }
  if (dibSize < 40 || dibSize > 1024)
    throw new TesseraError("bad_image", `corrupt bmp: DIB header of ${dibSize} bytes`);
  const info = await reader.bytes(18, 8);
  // A negative height marks a top-down bitmap; the size is its magnitude.
  return { width: info.readInt32LE(0), height: Math.abs(info.readInt32LE(4)), orientation: 1, warnings: [] };
}

/** IFD0 holds the first page's size and orientation; it may sit anywhere, often at the end. */
export async function probeTiff(reader: HeaderReader): Promise<HeaderFacts> {
  let tags: Map<number, number>;
  try {
    tags = await readIfd0(reader, 0, undefined, [TAG_IMAGE_WIDTH, TAG_IMAGE_LENGTH, TAG_ORIENTATION]);
  } catch (err) {
    if (err instanceof TiffStructureError)
      throw new TesseraError("bad_image", `corrupt tiff: ${err.message}`);
    throw err;
  }
  const width = tags.get(TAG_IMAGE_WIDTH);
  const height = tags.get(TAG_IMAGE_LENGTH);
  if (width === undefined || height === undefined) {
    throw new TesseraError("bad_image", "corrupt tiff: IFD0 has no ImageWidth/ImageLength");
  }
  const warnings: string[] = [];
  return { width, height, orientation: orientationFromTag(tags.get(TAG_ORIENTATION), warnings), warnings };
}
