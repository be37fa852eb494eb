import { crc32, deflateSync } from "node:zlib";
import type { PlacedMask } from "./mask-raster.ts";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * The mask over its whole frame as a 1-bit greyscale PNG (white inside). One bit per pixel and
 * rows of zeros compress to a few kilobytes even for a 12-megapixel photo, so the PNG can travel
 * inside the annotation JSON. Written directly from the box: going through sharp would mean a
 * full-frame 8-bit buffer per object, and sharp writes 1-bit only as a quantised palette image.
 */
export function encodeMaskPng(mask: PlacedMask): Buffer {
  const { width, height } = mask.frame;
  const [x0, y0, x1, y1] = mask.box;
  const stride = Math.ceil(width / 8) + 1; // a filter byte (0: none) leads each row
  const raw = Buffer.alloc(stride * height);
  const boxWidth = x1 - x0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (mask.data[(y - y0) * boxWidth + (x - x0)] !== 1) continue;
      const at = y * stride + 1 + (x >> 3);
      raw[at] = raw[at]! | (0x80 >> (x & 7));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
