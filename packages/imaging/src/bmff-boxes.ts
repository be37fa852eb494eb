// ISO base media file format (ISO/IEC 14496-12) box reading over bytes in memory, for the meta
// box of HEIF/AVIF files. Every read is bounds-checked: a header that lies about a size raises a
// bad_image error instead of reading a neighbour's bytes.
import { TesseraError } from "@tessera/core";

export interface Box {
  type: string;
  /** Offset of the box's first byte in the buffer. */
  start: number;
  /** Offset of the first byte after the header (size, type and largesize). */
  payload: number;
  /** Offset of the first byte after the box. */
  end: number;
}

export function corrupt(message: string): TesseraError {
  return new TesseraError("bad_image", `corrupt heif: ${message}`);
}

/** The boxes laid end to end in buf[from, to). */
export function children(buf: Buffer, from: number, to: number): Box[] {
  const boxes: Box[] = [];
  let pos = from;
  while (pos + 8 <= to) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString("latin1", pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > to) throw corrupt(`box "${type}" at ${pos} is cut short`);
      size = Number(buf.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = to - pos;
    }
    if (size < header || pos + size > to) throw corrupt(`box "${type}" at ${pos} claims ${size} bytes`);
    boxes.push({ type, start: pos, payload: pos + header, end: pos + size });
    pos += size;
  }
  return boxes;
}

/** Sequential big-endian reads within [at, end) of a buffer. */
export class Cursor {
  readonly buf: Buffer;
  at: number;
  readonly end: number;
  readonly what: string;

  constructor(buf: Buffer, at: number, end: number, what: string) {
    this.buf = buf;
    this.at = at;
    this.end = end;
    this.what = what;
  }

  #need(n: number): number {
    if (this.at + n > this.end) throw corrupt(`"${this.what}" is cut short`);
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(): number {
    return this.buf[this.#need(1)]!;
  }

  u16(): number {
    return this.buf.readUInt16BE(this.#need(2));
  }

  u32(): number {
    return this.buf.readUInt32BE(this.#need(4));
  }

  /** An unsigned integer of 0, 4 or 8 bytes, as iloc's variable-size fields are. */
  uint(bytes: number): number {
    if (bytes === 0) return 0;
    if (bytes === 4) return this.u32();
    if (bytes === 8) {
      const value = Number(this.buf.readBigUInt64BE(this.#need(8)));
      if (!Number.isSafeInteger(value)) throw corrupt(`"${this.what}" holds an offset beyond 2^53`);
      return value;
    }
    throw corrupt(`"${this.what}" uses a field size of ${bytes} bytes`);
  }

  fourcc(): string {
    const at = this.#need(4);
    return this.buf.toString("latin1", at, at + 4);
  }

  skip(n: number): void {
    this.#need(n);
  }
}
