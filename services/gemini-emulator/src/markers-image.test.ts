import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { markImage, readImageMarker } from "./markers-image.ts";

let png: Buffer;
let jpeg: Buffer;

beforeAll(async () => {
  const image = sharp({ create: { width: 40, height: 30, channels: 3, background: "#20a040" } });
  png = await image.clone().png().toBuffer();
  jpeg = await image.clone().jpeg().withMetadata().toBuffer();
});

/** A PNG chunk with the given type and data; the CRC is not checked by the reader. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, Buffer.from(type, "latin1"), data, Buffer.alloc(4)]);
}

function withChunk(image: Buffer, extra: Buffer): Buffer {
  return Buffer.concat([image.subarray(0, 33), extra, image.subarray(33)]);
}

describe("markImage / readImageMarker", () => {
  it("round-trips a PNG text chunk and a JPEG comment, leaving the pixels decodable and unchanged", async () => {
    for (const original of [png, jpeg]) {
      expect(readImageMarker(original)).toBeUndefined();
      const marked = markImage(original, "fence,truncate:4");
      expect(readImageMarker(marked)).toBe("fence,truncate:4");
      const [before, after] = await Promise.all([
        sharp(original).raw().toBuffer({ resolveWithObject: true }),
        sharp(marked).raw().toBuffer({ resolveWithObject: true }),
      ]);
      expect(after.info).toMatchObject({ width: 40, height: 30 });
      expect(after.data.equals(before.data)).toBe(true);
    }
  });

  it("writes the PNG chunk right after IHDR with a correct CRC", () => {
    const marked = markImage(png, "503");
    const length = marked.readUInt32BE(33);
    expect(marked.toString("latin1", 37, 41)).toBe("tEXt");
    const typeAndData = marked.subarray(37, 41 + length);
    expect(typeAndData.toString("latin1", 4)).toBe("tessera-fault\u0000503");
    expect(marked.readUInt32BE(41 + length)).toBe(crc32(typeAndData));
  });

  it("puts the JPEG comment after the APP segments", () => {
    const marked = markImage(jpeg, "503");
    const at = marked.indexOf(Buffer.from("tessera-fault=503"));
    // Walk from SOI: every segment before the comment is an APPn (EXIF, ICC), at least one of them.
    let offset = 2;
    const before: number[] = [];
    while (offset < at - 4) {
      before.push(marked[offset + 1]!);
      offset += 2 + marked.readUInt16BE(offset + 2);
    }
    expect(offset).toBe(at - 4);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((marker) => marker >= 0xe0 && marker <= 0xef)).toBe(true);
    expect(marked.subarray(at - 4, at - 2)).toEqual(Buffer.from([0xff, 0xfe]));
  });

  it("reads compressed zTXt and iTXt chunks with the marker keyword", () => {
    const ztxt = Buffer.concat([Buffer.from("tessera-fault\0\0", "latin1"), deflateSync("504")]);
    expect(readImageMarker(withChunk(png, chunk("zTXt", ztxt)))).toBe("504");
    const itxt = Buffer.concat([Buffer.from("tessera-fault\0\x01\0en\0\0", "latin1"), deflateSync("block")]);
    expect(readImageMarker(withChunk(png, chunk("iTXt", itxt)))).toBe("block");
    const other = Buffer.from("Comment\x00503", "latin1");
    expect(readImageMarker(withChunk(png, chunk("tEXt", other)))).toBeUndefined();
  });

  it("finds tessera-fault=... anywhere in other formats", async () => {
    const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } })
      .webp()
      .toBuffer();
    const tagged = Buffer.concat([webp, Buffer.from('<x:xmp note="tessera-fault=seg-masks,over-1000"/>')]);
    expect(readImageMarker(tagged)).toBe("seg-masks,over-1000");
    expect(() => markImage(webp, "503")).toThrow(/PNG and JPEG/);
  });

  it("refuses to write a spec the emulator would reject", () => {
    expect(() => markImage(png, "teapot")).toThrow(/unknown fault "teapot"/);
  });
});
