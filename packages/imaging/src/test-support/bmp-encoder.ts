// Writes BMP variants for decoder tests: nothing else here writes BMP.

export interface BmpSpec {
  width: number;
  height: number;
  /** Interleaved RGB of the image as displayed, top row first. */
  rgb: Buffer;
  bits: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** 16 and 32 bits: write BI_BITFIELDS with these masks (R, G, B) instead of BI_RGB. */
  masks?: [number, number, number];
  /** OS/2 BITMAPCOREHEADER (12 bytes) instead of BITMAPINFOHEADER; 24 bits or palettes only. */
  core?: boolean;
  compression?: number;
}

export function encodeBmp(spec: BmpSpec): Buffer {
  const { width, height, rgb, bits } = spec;
  const paletted = bits <= 8;
  const palette: number[] = [];
  const indexOf = new Map<number, number>();
  if (paletted) {
    for (let i = 0; i < width * height; i++) {
      const key = (rgb[i * 3]! << 16) | (rgb[i * 3 + 1]! << 8) | rgb[i * 3 + 2]!;
      if (!indexOf.has(key)) {
        indexOf.set(key, palette.length);
        palette.push(key);
      }
    }
    if (palette.length > 1 << bits) throw new Error(`${palette.length} colours do not fit ${bits} bits`);
  }
  const dibSize = spec.core ? 12 : 40;
  const maskBytes = spec.masks ? 12 : 0;
  const paletteBytes = palette.length * (spec.core ? 3 : 4);
  const stride = Math.floor((bits * width + 31) / 32) * 4;
  const pixelOffset = 14 + dibSize + maskBytes + (spec.core && paletted ? (1 << bits) * 3 : paletteBytes);
  const out = Buffer.alloc(pixelOffset + stride * height);
  out.write("BM", 0, "latin1");
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(pixelOffset, 10);
  out.writeUInt32LE(dibSize, 14);
  if (spec.core) {
    out.writeUInt16LE(width, 18);
    out.writeUInt16LE(height, 20);
    out.writeUInt16LE(1, 22);
    out.writeUInt16LE(bits, 24);
  } else {
    out.writeInt32LE(width, 18);
    out.writeInt32LE(spec.topDown ? -height : height, 22);
    out.writeUInt16LE(1, 26);
    out.writeUInt16LE(bits, 28);
    out.writeUInt32LE(spec.compression ?? (spec.masks ? 3 : 0), 30);
    out.writeUInt32LE(paletted ? palette.length : 0, 46);
  }
  let at = 14 + dibSize;
  for (const mask of spec.masks ?? []) {
    out.writeUInt32LE(mask >>> 0, at);
    at += 4;
  }
  for (const color of palette) {
    out[at] = color & 0xff;
    out[at + 1] = (color >> 8) & 0xff;
    out[at + 2] = (color >> 16) & 0xff;
    at += spec.core ? 3 : 4;
  }
  const [rMask, gMask, bMask] =
    spec.masks ?? (bits === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0xff00, 0xff]);
  const pack = (mask: number, value: number): number => {
    let shift = 0;
    while (((mask >>> shift) & 1) === 0) shift++;
    const max = mask >>> shift;
    return (Math.round((value * max) / 255) << shift) >>> 0;
  };
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (spec.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
      if (paletted) {
        const index = indexOf.get((r << 16) | (g << 8) | b)!;
        const byte = row + ((x * bits) >> 3);
        out[byte] = out[byte]! | (index << (8 - bits - ((x * bits) & 7)));
      } else if (bits === 24 || (bits === 32 && !spec.masks)) {
        const p = row + x * (bits >> 3);
        out[p] = b;
        out[p + 1] = g;
        out[p + 2] = r;
      } else {
        const value = (pack(rMask, r) | pack(gMask, g) | pack(bMask, b)) >>> 0;
        if (bits === 16) out.writeUInt16LE(value, row + x * 2);
        else out.writeUInt32LE(value, row + x * 4);
      }
    }
  }
  return out;
}
