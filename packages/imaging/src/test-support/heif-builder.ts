// Hand-built HEIF structures for tests: headers no encoder here writes (grids, meta after mdat,
// 32-bit field variants) and rotation properties added to a real file.
import { children } from "../bmff-boxes.ts";

export function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, body]);
}

export function fullBox(type: string, version: number, flags: number, ...payload: Buffer[]): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, vf, ...payload);
}

function u8(v: number): Buffer {
  return Buffer.from([v]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v, 0);
  return b;
}

export type HeifTransformSpec = { irot: number } | { imir: number };

export function transformBoxes(transforms: readonly HeifTransformSpec[]): Buffer[] {
  return transforms.map((t) => ("irot" in t ? box("irot", u8(t.irot)) : box("imir", u8(t.imir))));
}

export interface SyntheticHeif {
  brands?: string[];
  primaryType?: "hvc1" | "av01" | "grid";
  /** The primary item's ispe; omit to make a grid's size come from its ImageGrid data. */
  ispe?: [number, number];
  transforms?: HeifTransformSpec[];
  /** Grid canvas stored in the item data, in idat (construction method 1) or in the file. */
  grid?: { width: number; height: number; wide?: boolean; in: "idat" | "file" };
  metaAfterMdat?: boolean;
  mdatBytes?: number;
  /** Use the 32-bit variants: pitm version 1, ipma version 1 with 16-bit property indices. */
  wide?: boolean;
  handler?: string;
}

/**
 * A structurally valid HEIF header with no decodable image: enough for probing. Item 1 is the
 * primary item; a grid has no tiles, since probing never reads them.
 */
export function syntheticHeif(spec: SyntheticHeif): Buffer {
  const brands = spec.brands ?? ["heic", "mif1", "heic"];
  const ftyp = box(
    "ftyp",
    Buffer.from(brands[0]!, "latin1"),
    u32(0),
    Buffer.from(brands.slice(1).join(""), "latin1"),
  );
  const wide = spec.wide ?? false;
  const properties: Buffer[] = [];
  if (spec.ispe) properties.push(fullBox("ispe", 0, 0, u32(spec.ispe[0]), u32(spec.ispe[1])));
  properties.push(...transformBoxes(spec.transforms ?? []));
  const indices = properties.map((_, i) => i + 1);
  const ipma = fullBox(
    "ipma",
    wide ? 1 : 0,
    wide ? 1 : 0,
    u32(1),
    wide ? u32(1) : u16(1),
    u8(indices.length),
    ...indices.map((i) => (wide ? u16(0x8000 | i) : u8(0x80 | i))),
  );
  const gridData = spec.grid
    ? Buffer.concat([
        u8(0),
        u8(spec.grid.wide ? 1 : 0),
        u8(0),
        u8(0),
        ...(spec.grid.wide
          ? [u32(spec.grid.width), u32(spec.grid.height)]
          : [u16(spec.grid.width), u16(spec.grid.height)]),
      ])
    : Buffer.alloc(0);
  const inIdat = spec.grid?.in === "idat";
  const mdatPayload = Buffer.concat([
    inIdat ? Buffer.alloc(0) : gridData,
    Buffer.alloc(spec.mdatBytes ?? 64),
  ]);
  const mdat = box("mdat", mdatPayload);

  const buildMeta = (fileOffsetOfItem: number): Buffer => {
    const ilocEntry = Buffer.concat([
      u16(1),
      u16(inIdat ? 1 : 0), // construction method (iloc version 1)
      u16(0),
      u32(inIdat ? 0 : fileOffsetOfItem), // base offset
      u16(1),
      u32(0),
      u32(spec.grid ? gridData.length : 64),
    ]);
    return fullBox(
      "meta",
      0,
      0,
      fullBox("hdlr", 0, 0, u32(0), Buffer.from(spec.handler ?? "pict", "latin1"), Buffer.alloc(13)),
      wide ? fullBox("pitm", 1, 0, u32(1)) : fullBox("pitm", 0, 0, u16(1)),
      fullBox(
        "iinf",
        0,
        0,
        u16(1),
        fullBox(
          "infe",
          2,
          0,
          u16(1),
          u16(0),
          Buffer.from(spec.primaryType ?? "hvc1", "latin1"),
          Buffer.from("\0"),
        ),
      ),
      // offset_size 4, length_size 4, base_offset_size 4, index_size 0
      fullBox("iloc", 1, 0, u8(0x44), u8(0x40), u16(1), ilocEntry),
      box("iprp", box("ipco", ...properties), ipma),
      ...(inIdat ? [box("idat", gridData)] : []),
    );
  };
  if (spec.metaAfterMdat) {
    return Buffer.concat([ftyp, mdat, buildMeta(ftyp.length + 8)]);
  }
  const metaLength = buildMeta(0).length;
  return Buffer.concat([ftyp, buildMeta(ftyp.length + metaLength + 8), mdat]);
}

/**
 * Adds irot/imir properties to the primary item of a real HEIF file, moving the image data's
 * iloc file offsets by the bytes the meta box grows, so the result still decodes.
 */
export function withHeifTransforms(file: Buffer, transforms: readonly HeifTransformSpec[]): Buffer {
  const top = children(file, 0, file.length);
  const meta = top.find((b) => b.type === "meta");
  if (!meta) throw new Error("no meta box");
  const metaChildren = children(file, meta.payload + 4, meta.end);
  const pitm = metaChildren.find((b) => b.type === "pitm")!;
  const primary =
    file[pitm.payload] === 0 ? file.readUInt16BE(pitm.payload + 4) : file.readUInt32BE(pitm.payload + 4);
  const added = transformBoxes(transforms);
  const grow = added.reduce((n, b) => n + b.length, 0) + added.length; // each new index is 1 byte in ipma
  const rebuilt: Buffer[] = [];
  for (const child of metaChildren) {
    const bytes = Buffer.from(file.subarray(child.start, child.end));
    if (child.type === "iloc") {
      shiftIloc(bytes, meta.end <= top.find((b) => b.type === "mdat")!.start ? grow : 0);
      rebuilt.push(bytes);
    } else if (child.type === "iprp") {
      const parts = children(file, child.payload, child.end);
      const ipco = parts.find((p) => p.type === "ipco")!;
      const ipma = parts.find((p) => p.type === "ipma")!;
      const existing = children(file, ipco.payload, ipco.end).length;
      rebuilt.push(
        box(
          "iprp",
          box("ipco", file.subarray(ipco.payload, ipco.end), ...added),
          addAssociations(file.subarray(ipma.start, ipma.end), primary, existing, added.length),
        ),
      );
    } else {
      rebuilt.push(bytes);
    }
  }
  const newMeta = box("meta", file.subarray(meta.payload, meta.payload + 4), ...rebuilt);
  return Buffer.concat([file.subarray(0, meta.start), newMeta, file.subarray(meta.end)]);
}

function addAssociations(ipma: Buffer, item: number, firstNew: number, count: number): Buffer {
  const version = ipma[8]!;
  const flags = ipma.readUIntBE(9, 3);
  if (version !== 0 || (flags & 1) !== 0)
    throw new Error("only ipma version 0 with 7-bit indices is handled");
  const out: Buffer[] = [ipma.subarray(8, 16)];
  let at = 16;
  const entries = ipma.readUInt32BE(12);
  for (let i = 0; i < entries; i++) {
    const id = ipma.readUInt16BE(at);
    const n = ipma[at + 2]!;
    const assoc = ipma.subarray(at + 3, at + 3 + n);
    if (id === item) {
      const extra = Buffer.from(Array.from({ length: count }, (_, k) => 0x80 | (firstNew + k + 1)));
      out.push(u16(id), u8(n + count), assoc, extra);
    } else {
      out.push(ipma.subarray(at, at + 3 + n));
    }
    at += 3 + n;
  }
  return box("ipma", ...out);
}

/** Adds `delta` to every file-based (construction method 0) offset of an iloc box, in place. */
function shiftIloc(iloc: Buffer, delta: number): void {
  const version = iloc[8]!;
  let at = 12;
  const offsetSize = iloc[at]! >> 4;
  const lengthSize = iloc[at]! & 15;
  const baseSize = iloc[at + 1]! >> 4;
  const indexSize = version === 0 ? 0 : iloc[at + 1]! & 15;
  at += 2;
  const read = (n: number, pos: number): number =>
    n === 0 ? 0 : n === 4 ? iloc.readUInt32BE(pos) : Number(iloc.readBigUInt64BE(pos));
  const write = (n: number, pos: number, v: number): void => {
    if (n === 4) iloc.writeUInt32BE(v, pos);
    else if (n === 8) iloc.writeBigUInt64BE(BigInt(v), pos);
  };
  const count = version < 2 ? iloc.readUInt16BE(at) : iloc.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  for (let i = 0; i < count; i++) {
    at += version < 2 ? 2 : 4;
    const method = version === 0 ? 0 : iloc.readUInt16BE(at) & 15;
    if (version !== 0) at += 2;
    at += 2;
    const basePos = at;
    at += baseSize;
    const extents = iloc.readUInt16BE(at);
    at += 2;
    const shiftBase = method === 0 && baseSize > 0;
    if (shiftBase) write(baseSize, basePos, read(baseSize, basePos) + delta);
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      if (method === 0 && !shiftBase) write(offsetSize, at, read(offsetSize, at) + delta);
      at += offsetSize + lengthSize;
    }
  }
}
