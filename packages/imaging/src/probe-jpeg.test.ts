import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { bufferReader, type RangeReader } from "./header-reader.ts";
import { probeImage } from "./probe.ts";
import { appSegment, exifSegment, paddingSegments, withSegmentsAfterSoi } from "./test-support/headers.ts";

const small = sharp({ create: { width: 64, height: 40, channels: 3, background: "#c33" } }).jpeg();

function counting(bytes: Buffer): { read: RangeReader; reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    reads,
    read: (start, end) => {
      reads.push([start, end]);
      return bufferReader(bytes)(start, end);
    },
  };
}

describe("probeImage on JPEG segment layouts", () => {
  it("hops over 3 MiB of APP segments in front of SOF, reading only their headers", async () => {
    const jpeg = withSegmentsAfterSoi(await small.clone().toBuffer(), [
      exifSegment(8),
      ...paddingSegments(3 << 20),
    ]);
    const { read, reads } = counting(jpeg);
    const probed = await probeImage(read, { size: jpeg.length });
    expect(probed).toMatchObject({
      width: 64,
      height: 40,
      orientation: 8,
      displayWidth: 40,
      displayHeight: 64,
    });
    // One read per 64 KiB segment beyond the first window, each a few KiB: far below the 3 MiB skipped.
    expect(probed.bytesRead).toBeLessThan(256 * 1024);
    expect(reads.length).toBeLessThanOrEqual(Math.ceil((3 << 20) / 65533) + 2);
    for (const [start, end] of reads.slice(1)) expect(end - start + 1).toBeLessThanOrEqual(4096);
  });

  it("reads the orientation of a sharp-written EXIF block carrying a 60 KB field", async () => {
    const jpeg = await small
      .clone()
      .withExif({ IFD0: { ImageDescription: "x".repeat(60_000) } })
      .withMetadata({ orientation: 5 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).exif?.length).toBeGreaterThan(60_000);
    const { read, reads } = counting(jpeg);
    const probed = await probeImage(read, { size: jpeg.length });
    expect(probed).toMatchObject({ orientation: 5, width: 64, height: 40 });
    expect(reads).toHaveLength(2);
    expect(probed.bytesRead).toBeLessThanOrEqual(12 * 1024);
  });

  it("takes the first Exif block's orientation and ignores XMP and later APP1 blocks", async () => {
    const xmp = appSegment(1, Buffer.from("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>", "latin1"));
    const jpeg = withSegmentsAfterSoi(await small.clone().toBuffer(), [xmp, exifSegment(6), exifSegment(3)]);
    expect((await probeImage(bufferReader(jpeg))).orientation).toBe(6);
  });

  it("treats an unreadable Exif block as upright, with a warning, without failing the image", async () => {
    const garbage = appSegment(
      1,
      Buffer.concat([Buffer.from("Exif\0\0", "latin1"), Buffer.from("XX\0\x2a\0\0\0\x08")]),
    );
    const jpeg = withSegmentsAfterSoi(await small.clone().toBuffer(), [garbage]);
    const probed = await probeImage(bufferReader(jpeg));
    expect(probed.orientation).toBe(1);
    expect(probed.warnings[0]).toMatch(/unreadable EXIF block \(bad byte order mark/);
  });

  it("skips fill bytes and restart markers between segments", async () => {
    const base = await small.clone().toBuffer();
    const jpeg = Buffer.concat([
      base.subarray(0, 2),
      Buffer.from([0xff, 0xff, 0xff]),
      exifSegment(2),
      base.subarray(2),
    ]);
    expect((await probeImage(bufferReader(jpeg))).orientation).toBe(2);
  });

  it("stops with a bad image when the maxHeaderBytes budget runs out before SOF", async () => {
    const jpeg = withSegmentsAfterSoi(await small.clone().toBuffer(), paddingSegments(2 << 20));
    await expect(probeImage(bufferReader(jpeg), { maxHeaderBytes: 64 * 1024 })).rejects.toThrow(
      /jpeg header too large: .* more than 65536 bytes/,
    );
  });
});
