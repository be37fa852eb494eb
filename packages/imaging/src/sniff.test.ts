import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { describeUnknownBytes, sniffImage } from "./sniff.ts";

const solid = sharp({ create: { width: 8, height: 6, channels: 3, background: "#336699" } });

function ftyp(major: string, ...compatible: string[]): Buffer {
  const brands = [major, "\0\0\0\0", ...compatible].join("");
  const size = 8 + brands.length;
  const box = Buffer.alloc(size);
  box.writeUInt32BE(size, 0);
  box.write("ftyp", 4, "latin1");
  box.write(brands, 8, "latin1");
  return box;
}

describe("sniffImage", () => {
  it.each([
    ["png", () => solid.clone().png().toBuffer(), "image/png", true],
    ["jpeg", () => solid.clone().jpeg().toBuffer(), "image/jpeg", true],
    ["webp", () => solid.clone().webp().toBuffer(), "image/webp", true],
    ["gif", () => solid.clone().gif().toBuffer(), "image/gif", false],
    ["tiff", () => solid.clone().tiff().toBuffer(), "image/tiff", false],
  ] as const)("recognises %s from real encoder output", async (format, make, mime, supported) => {
    expect(sniffImage(await make())).toEqual({ format, mime, geminiSupported: supported });
  });

  it("tells HEIC, HEIF and AVIF apart by their brands", () => {
    expect(sniffImage(ftyp("heic", "mif1", "heic"))?.format).toBe("heic");
    expect(sniffImage(ftyp("mif1", "heic"))?.format).toBe("heic");
    expect(sniffImage(ftyp("mif1", "mif1"))?.format).toBe("heif");
    expect(sniffImage(ftyp("avif", "mif1", "miaf"))?.format).toBe("avif");
    expect(sniffImage(ftyp("isom", "mp41"))).toBeUndefined();
  });

  it("rejects what is not an image, whatever its name", () => {
    expect(sniffImage(Buffer.from("%PDF-1.7 ..."))).toBeUndefined();
    expect(sniffImage(Buffer.alloc(0))).toBeUndefined();
    expect(sniffImage(Buffer.from([0xff, 0xd8]))).toBeUndefined();
  });

  it("describes unknown bytes for the manifest", () => {
    expect(describeUnknownBytes(Buffer.alloc(0))).toBe("empty object (0 bytes)");
    expect(describeUnknownBytes(Buffer.from("%PDF-1.7 more"))).toBe('starts with "%PDF-1.7"');
    expect(describeUnknownBytes(Buffer.from([0, 1, 2]))).toBe("starts with bytes 000102");
  });
});
