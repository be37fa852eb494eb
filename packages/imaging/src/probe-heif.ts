import { TesseraError } from "@tessera/core";
import { Cursor, children, corrupt, type Box } from "./bmff-boxes.ts";
import type { HeaderReader } from "./header-reader.ts";
import { orientationFromHeif, type HeifTransform } from "./orientation.ts";
import type { HeaderFacts } from "./probe-types.ts";

// ftyp, meta, a few mdat and free boxes: more top-level boxes than this before meta is not a
// still image worth chasing.
const MAX_TOP_LEVEL_BOXES = 64;

interface Extent {
  offset: number;
  length: number;
}

interface Location {
  /** 0: offsets into the file; 1: offsets into the meta box's idat. */
  method: number;
  baseOffset: number;
  extents: Extent[];
}

interface MetaContents {
  handler: string | undefined;
  primary: number | undefined;
  itemTypes: Map<number, string>;
  locations: Map<number, Location>;
  /** ipco's boxes; ipma refers to them from 1. */
  properties: Box[];
  associations: Map<number, number[]>;
  idat: Box | undefined;
}

/**
 * HEIF, HEIC and AVIF: finds the top-level meta box (hopping over mdat by its size when a file
 * puts meta last), then the primary item (pitm) and its properties (ipco/ipma): ispe for the
 * stored size, irot/imir in their listed order for the orientation. A grid primary item without
 * ispe gets its canvas size from its ImageGrid data, located through iloc. EXIF inside HEIF is
 * not read: the format's own irot/imir are authoritative and decoders apply those.
 */
export async function probeHeif(reader: HeaderReader): Promise<HeaderFacts> {
  const meta = await findMeta(reader);
  const contents = parseMeta(meta.buf, meta.box);
  if (contents.handler !== "pict") {
    throw corrupt(
      `meta handler is ${JSON.stringify(contents.handler ?? "missing")}, not "pict" (not an image)`,
    );
  }
  if (contents.primary === undefined) throw corrupt("no primary item (pitm)");
  const primary = contents.primary;
  const itemType = contents.itemTypes.get(primary);
  const warnings: string[] = [];
  let size: { width: number; height: number } | undefined;
  const transforms: HeifTransform[] = [];
  for (const index of contents.associations.get(primary) ?? []) {
    const property = contents.properties[index - 1];
    if (property === undefined) throw corrupt(`ipma refers to missing property ${index}`);
    const c = new Cursor(meta.buf, property.payload, property.end, property.type);
    if (property.type === "ispe") {
      c.skip(4);
      size = { width: c.u32(), height: c.u32() };
    } else if (property.type === "irot") {
      transforms.push({ kind: "irot", angle: c.u8() & 3 });
    } else if (property.type === "imir") {
      transforms.push({ kind: "imir", axis: c.u8() & 1 });
    } else if (property.type === "clap") {
      warnings.push("clean-aperture crop (clap) not applied: sizes are before cropping");
    }
  }
  if (size === undefined && (itemType === "grid" || itemType === "iovl")) {
    size = await derivedImageSize(reader, meta.buf, contents, primary, itemType);
  }
  if (size === undefined)
    throw corrupt(`primary item ${primary} (${itemType ?? "no type"}) has no ispe size`);
  return { ...size, orientation: orientationFromHeif(transforms), warnings };
}

async function findMeta(reader: HeaderReader): Promise<{ buf: Buffer; box: Box }> {
  let pos = 0;
  for (let hop = 0; hop < MAX_TOP_LEVEL_BOXES; hop++) {
    const head = await reader.upTo(pos, 16);
    if (head.length < 8) {
      throw new TesseraError(
        "bad_image",
        `truncated ${reader.label}: the object ends at ${pos + head.length} before any meta box`,
      );
    }
    let size = head.readUInt32BE(0);
    const type = head.toString("latin1", 4, 8);
    let header = 8;
    if (size === 1) {
      if (head.length < 16)
        throw new TesseraError("bad_image", `truncated ${reader.label}: box header at ${pos}`);
      size = Number(head.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) {
      // "To the end of the file": only usable when the end is known.
      if (type !== "meta" || reader.size === undefined)
        throw corrupt(`no meta box before "${type}", which runs to the end`);
      size = reader.size - pos;
    }
    if (!Number.isSafeInteger(size) || size < header)
      throw corrupt(`top-level box "${type}" at ${pos} claims ${size} bytes`);
    if (type === "meta") {
      const buf = await reader.bytes(pos, size);
      return { buf, box: { type, start: 0, payload: header, end: size } };
    }
    pos += size;
  }
  throw corrupt(`no meta box among the first ${MAX_TOP_LEVEL_BOXES} top-level boxes`);
}

function fullBox(buf: Buffer, box: Box): { version: number; c: Cursor } {
  const c = new Cursor(buf, box.payload, box.end, box.type);
  const version = c.u8();
  c.skip(3);
  return { version, c };
}

function parseMeta(buf: Buffer, meta: Box): MetaContents {
  const contents: MetaContents = {
    handler: undefined,
    primary: undefined,
    itemTypes: new Map(),
    locations: new Map(),
    properties: [],
    associations: new Map(),
    idat: undefined,
  };
  // meta is a FullBox: its children start after version and flags.
  for (const box of children(buf, meta.payload + 4, meta.end)) {
    switch (box.type) {
      case "hdlr": {
        const { c } = fullBox(buf, box);
        c.skip(4);
        contents.handler = c.fourcc();
        break;
      }
      case "pitm": {
        const { version, c } = fullBox(buf, box);
        contents.primary = version === 0 ? c.u16() : c.u32();
        break;
      }
      case "iinf":
        parseItemInfo(buf, box, contents.itemTypes);
        break;
      case "iloc":
        parseItemLocations(buf, box, contents.locations);
        break;
      case "iprp":
        for (const child of children(buf, box.payload, box.end)) {
          if (child.type === "ipco") contents.properties = children(buf, child.payload, child.end);
          else if (child.type === "ipma") parseAssociations(buf, child, contents.associations);
        }
        break;
      case "idat":
        contents.idat = box;
        break;
      default:
        break;
    }
  }
  return contents;
}

function parseItemInfo(buf: Buffer, iinf: Box, types: Map<number, string>): void {
  const { version, c } = fullBox(buf, iinf);
  if (version === 0) c.u16();
  else c.u32();
  for (const infe of children(buf, c.at, iinf.end)) {
    if (infe.type !== "infe") continue;
    const entry = fullBox(buf, infe);
    // Versions 0 and 1 predate item types; HEIF requires 2 or 3.
    if (entry.version < 2) continue;
    const id = entry.version === 2 ? entry.c.u16() : entry.c.u32();
    entry.c.u16(); // item_protection_index
    types.set(id, entry.c.fourcc());
  }
}

function parseItemLocations(buf: Buffer, iloc: Box, locations: Map<number, Location>): void {
  const { version, c } = fullBox(buf, iloc);
  if (version > 2) throw corrupt(`iloc version ${version}`);
  const sizes = c.u8();
  const more = c.u8();
  const offsetSize = sizes >> 4;
  const lengthSize = sizes & 15;
  const baseOffsetSize = more >> 4;
  const indexSize = version === 0 ? 0 : more & 15;
  const count = version < 2 ? c.u16() : c.u32();
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? c.u16() : c.u32();
    const method = version === 0 ? 0 : c.u16() & 15;
    c.u16(); // data_reference_index
    const baseOffset = c.uint(baseOffsetSize);
    const extentCount = c.u16();
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      c.uint(indexSize);
      extents.push({ offset: c.uint(offsetSize), length: c.uint(lengthSize) });
    }
    locations.set(id, { method, baseOffset, extents });
  }
}

function parseAssociations(buf: Buffer, ipma: Box, associations: Map<number, number[]>): void {
  const { version, c } = fullBox(buf, ipma);
  const flags = buf.readUIntBE(ipma.payload + 1, 3);
  const entries = c.u32();
  for (let i = 0; i < entries; i++) {
    const id = version < 1 ? c.u16() : c.u32();
    const count = c.u8();
    const list = associations.get(id) ?? [];
    for (let a = 0; a < count; a++) {
      // The top bit marks an essential property; the rest is the 1-based ipco index.
      list.push((flags & 1) !== 0 ? c.u16() & 0x7fff : c.u8() & 0x7f);
    }
    associations.set(id, list);
  }
}

/**
 * The output size stored in a grid (ImageGrid) or overlay (ImageOverlay) item's own data, which
 * lives in idat or in the file (then read with a small ranged read).
 */
async function derivedImageSize(
  reader: HeaderReader,
  buf: Buffer,
  contents: MetaContents,
  id: number,
  type: "grid" | "iovl",
): Promise<{ width: number; height: number }> {
  const location = contents.locations.get(id);
  const extent = location?.extents[0];
  if (location === undefined || extent === undefined)
    throw corrupt(`${type} item ${id} has no location (iloc)`);
  // grid: version, flags, rows-1, columns-1; iovl: version, flags, four 16-bit fill values.
  const sizeAt = type === "grid" ? 4 : 10;
  const needed = sizeAt + 8;
  let data: Buffer;
  if (location.method === 1) {
    if (contents.idat === undefined) throw corrupt(`${type} item ${id} is in idat, which is missing`);
    const start = contents.idat.payload + location.baseOffset + extent.offset;
    if (start + 2 > contents.idat.end) throw corrupt(`${type} item ${id} lies outside idat`);
    data = buf.subarray(start, Math.min(start + needed, contents.idat.end));
  } else if (location.method === 0) {
    data = await reader.upTo(location.baseOffset + extent.offset, needed);
  } else {
    throw corrupt(`${type} item ${id} uses iloc construction method ${location.method}`);
  }
  const c = new Cursor(data, 0, data.length, type);
  c.u8();
  const wide = (c.u8() & 1) !== 0;
  c.skip(sizeAt - 2);
  return wide ? { width: c.u32(), height: c.u32() } : { width: c.u16(), height: c.u16() };
}
