// Hand-built JPEG and PNG headers: sizes and layouts that encoders here do not write.
import { deflateSync } from "node:zlib";

/** A JPEG APPn segment (marker 0xE0 + n) holding `payload` (at most 65533 bytes). */
export function appSegment(n: number, payload: Buffer): Buffer {
  if (payload.length > 65533) throw new Error("APP segment payload over 65533 bytes");
  const head = Buffer.from([0xff, 0xe0 + n, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** Inserts segments right after SOI, in front of everything the encoder wrote (SOF included). */
export function withSegmentsAfterSoi(jpeg: Buffer, segments: Buffer[]): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** `total` bytes of APP15 padding split into maximal segments. */
export function paddingSegments(total: number): Buffer[] {
  const segments: Buffer[] = [];
  for (let left = total; left > 0; left -= 65533)
    segments.push(appSegment(15, Buffer.alloc(Math.min(left, 65533), 0x5a)));
  return segments;
}

/** An APP1 Exif block whose IFD0 has just an orientation tag (big-endian TIFF). */
export function exifSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write("MM", 0, "latin1");
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  return appSegment(1, Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]));
}

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG whose IHDR declares width x height, followed by `chunks` and a token IDAT/IEND. */
export function pngWithHeader(width: number, height: number, chunks: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    ...chunks,
    pngChunk("IDAT", deflateSync(Buffer.alloc(16))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}
