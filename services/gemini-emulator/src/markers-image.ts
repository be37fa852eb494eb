// Fault markers carried by an image's own bytes, so a test can make exactly one image misbehave
// however it reaches the emulator (inline, uploaded file, fetched URL). A PNG carries it as a text
// chunk, a JPEG as a comment; any file may also hold `tessera-fault=...` anywhere (XMP, EXIF).
import { crc32, inflateSync } from "node:zlib";
import { MARKER_KEY, parseFaultSpec } from "./markers.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const INLINE_PREFIX = Buffer.from(`${MARKER_KEY}=`, "latin1");
/** What a spec can contain; the scan stops at the first other byte. */
const SPEC_BYTE = /[A-Za-z0-9:,._-]/;
const MAX_SPEC_LENGTH = 200;

/** The marker's spec text, e.g. "503" or "fence,prose"; undefined when the image carries none. */
export function readImageMarker(bytes: Buffer): string | undefined {
  if (isPng(bytes)) {
    const text = pngTextMarker(bytes);
    if (text !== undefined) return text;
  }
  return inlineMarker(bytes);
}

/**
 * Returns a copy of a PNG or JPEG that carries `spec` (validated first). Pixels are untouched, so
 * the emulator's answer about the image stays the same.
 */
export function markImage(bytes: Buffer, spec: string): Buffer {
  parseFaultSpec(spec);
  if (isPng(bytes)) {
    // Right after IHDR, which must come first: signature (8) + IHDR chunk (4 + 4 + 13 + 4).
    const at = PNG_SIGNATURE.length + 25;
    const chunk = pngChunk("tEXt", Buffer.from(`${MARKER_KEY}\0${spec}`, "latin1"));
    return Buffer.concat([bytes.subarray(0, at), chunk, bytes.subarray(at)]);
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const at = afterJpegAppSegments(bytes);
    const text = Buffer.from(`${MARKER_KEY}=${spec}`, "latin1");
    const header = Buffer.from([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
    return Buffer.concat([bytes.subarray(0, at), header, text, bytes.subarray(at)]);
  }
  throw new Error(
    `markImage writes PNG and JPEG; for another format put "${MARKER_KEY}=${spec}" anywhere in the file (e.g. XMP)`,
  );
}

function isPng(bytes: Buffer): boolean {
  return (
    bytes.length >= PNG_SIGNATURE.length && bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)
  );
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typeBytes = Buffer.from(type, "latin1");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([typeBytes, data])));
  return Buffer.concat([length, typeBytes, data, crc]);
}

/** Walks chunk headers only (cheap), reading tEXt, zTXt and iTXt whose keyword is the marker key. */
function pngTextMarker(bytes: Buffer): string | undefined {
  let offset = PNG_SIGNATURE.length;
  while (offset + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString("latin1", offset + 4, offset + 8);
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd > bytes.length || type === "IEND") return undefined;
    if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      const text = pngText(type, bytes.subarray(dataStart, dataEnd));
      if (text !== undefined) return text;
    }
    offset = dataEnd + 4;
  }
  return undefined;
}

function pngText(type: string, data: Buffer): string | undefined {
  const keywordEnd = data.indexOf(0);
  if (keywordEnd < 0 || data.toString("latin1", 0, keywordEnd) !== MARKER_KEY) return undefined;
  try {
    if (type === "tEXt") return data.toString("latin1", keywordEnd + 1).trim();
    if (type === "zTXt")
      return inflateSync(data.subarray(keywordEnd + 2))
        .toString("latin1")
        .trim();
    // iTXt: keyword, compression flag, method, language tag, translated keyword, then the text.
    const compressed = data[keywordEnd + 1] === 1;
    const languageEnd = data.indexOf(0, keywordEnd + 3);
    const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
    if (translatedEnd < 0) return undefined;
    const text = data.subarray(translatedEnd + 1);
    return (compressed ? inflateSync(text) : text).toString("utf8").trim();
  } catch {
    // A corrupt text chunk is the image's problem, not a marker.
    return undefined;
  }
}

function inlineMarker(bytes: Buffer): string | undefined {
  const at = bytes.indexOf(INLINE_PREFIX);
  if (at < 0) return undefined;
  let end = at + INLINE_PREFIX.length;
  const limit = Math.min(bytes.length, end + MAX_SPEC_LENGTH);
  while (end < limit && SPEC_BYTE.test(String.fromCharCode(bytes[end]!))) end += 1;
  return bytes.toString("latin1", at + INLINE_PREFIX.length, end);
}

/** After SOI and any APPn segments, where a comment does not disturb JFIF/EXIF readers. */
function afterJpegAppSegments(bytes: Buffer): number {
  let offset = 2;
  while (offset + 4 <= bytes.length && bytes[offset] === 0xff) {
    const marker = bytes[offset + 1]!;
    if (marker < 0xe0 || marker > 0xef) break;
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return offset;
}
