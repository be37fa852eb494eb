import { TesseraError } from "@tessera/core";

/**
 * Reads bytes `start..endInclusive` of an object, like an HTTP Range request: it may return fewer
 * bytes at the end of the object (and none past it), and errors it throws (network, storage) are
 * passed through unchanged so their retry class survives.
 */
export type RangeReader = (start: number, endInclusive: number) => Promise<Buffer>;

/** A RangeReader over bytes already in memory. */
export function bufferReader(bytes: Uint8Array): RangeReader {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (start, endInclusive) => Promise.resolve(buffer.subarray(start, endInclusive + 1));
}

export interface HeaderReaderOptions {
  /** Total object size when the caller knows it (a listing does): reads never go past it. */
  size?: number | undefined;
  /** The most bytes all reads together may fetch. */
  maxBytes: number;
  /** The least a read fetches when it has to go to the object, so neighbouring headers come along. */
  minRead: number;
  /** Names the format in error messages. */
  label: string;
}

/** Raised when a required header is out of reach; parsers catch it to stop optional searches. */
export class HeaderBudgetError extends TesseraError {
  constructor(message: string) {
    super("bad_image", message);
    this.name = "HeaderBudgetError";
  }
}

interface Span {
  start: number;
  bytes: Buffer;
}

/**
 * Random access to the start of an object through ranged reads, fetching only what parsers ask
 * for. Fetched spans are kept (never more than maxBytes in all), so walking back and forth within
 * a header costs nothing once read.
 */
export class HeaderReader {
  readonly #read: RangeReader;
  readonly #opts: HeaderReaderOptions;
  #spans: Span[] = [];
  #bytesRead = 0;
  #reads = 0;
  /** Set when a read came back short: the object ends there. */
  #knownEnd: number | undefined;
  label: string;

  constructor(read: RangeReader, opts: HeaderReaderOptions) {
    this.#read = read;
    this.#opts = opts;
    this.label = opts.label;
    this.#knownEnd = opts.size;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  get reads(): number {
    return this.#reads;
  }

  /** The object's size if known from the caller or from a short read. */
  get size(): number | undefined {
    return this.#knownEnd;
  }

  /** Exactly `length` bytes at `offset`; a TesseraError when the object ends first. */
  async bytes(offset: number, length: number): Promise<Buffer> {
    const got = await this.upTo(offset, length);
    if (got.length < length) {
      throw new TesseraError(
        "bad_image",
        `truncated ${this.label}: the header needs bytes up to ${offset + length}, the object ends at ${offset + got.length}`,
      );
    }
    return got;
  }

  /** Up to `length` bytes at `offset`, fewer where the object ends. */
  async upTo(offset: number, length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new TesseraError("bad_image", `corrupt ${this.label} header: offset ${offset} length ${length}`);
    }
    const end = this.#knownEnd === undefined ? offset + length : Math.min(offset + length, this.#knownEnd);
    if (end <= offset) return Buffer.alloc(0);
    const span = this.#spans.find((s) => s.start <= offset && offset < s.start + s.bytes.length);
    if (span && span.start + span.bytes.length >= end) {
      return span.bytes.subarray(offset - span.start, end - span.start);
    }
    // Extend the span holding `offset` (or start a new one) so the answer is one contiguous buffer.
    const fetchFrom = span ? span.start + span.bytes.length : offset;
    const fetched = await this.#fetch(fetchFrom, end);
    const joined = span ? Buffer.concat([span.bytes, fetched]) : fetched;
    const start = span ? span.start : offset;
    this.#spans = this.#spans.filter((s) => s !== span);
    this.#spans.push({ start, bytes: joined });
    return joined.subarray(offset - start, Math.min(end, start + joined.length) - start);
  }

  async #fetch(from: number, needEnd: number): Promise<Buffer> {
    const remaining = this.#opts.maxBytes - this.#bytesRead;
    const need = needEnd - from;
    if (need > remaining) {
      throw new HeaderBudgetError(
        `${this.label} header too large: reading it needs more than ${this.#opts.maxBytes} bytes (maxHeaderBytes)`,
      );
    }
    let want = Math.min(Math.max(need, this.#opts.minRead), remaining);
    if (this.#knownEnd !== undefined) want = Math.min(want, this.#knownEnd - from);
    this.#reads += 1;
    const got = await this.#read(from, from + want - 1);
    const bytes = got.length > want ? got.subarray(0, want) : got;
    this.#bytesRead += bytes.length;
    if (bytes.length < want) this.#knownEnd = from + bytes.length;
    return bytes;
  }
}
