import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { bufferReader, type RangeReader } from "./header-reader.ts";
import { probeImage, type ProbeResult } from "./probe.ts";
import { encodeBmp } from "./test-support/bmp-encoder.ts";
import { hasSharedFixtures, readFixture } from "./test-support/fixtures.ts";
import { syntheticHeif } from "./test-support/heif-builder.ts";
import {
  exifSegment,
  paddingSegments,
  pngChunk,
  pngWithHeader,
  withSegmentsAfterSoi,
} from "./test-support/headers.ts";

async function outcome(read: RangeReader, size: number | undefined): Promise<ProbeResult | TesseraError> {
  try {
    return await probeImage(read, size === undefined ? {} : { size });
  } catch (err) {
    // Anything else (RangeError, TypeError from a bad offset) fails the test here.
    if (!(err instanceof TesseraError)) throw err;
    expect(err.errorClass).toBe("bad_image");
    return err;
  }
}

async function rejection(p: Promise<unknown>): Promise<TesseraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TesseraError);
  expect((err as TesseraError).errorClass).toBe("bad_image");
  return err as TesseraError;
}

const samples: Record<string, Buffer> = {};

beforeAll(async () => {
  const base = sharp({ create: { width: 97, height: 61, channels: 3, background: "#48c" } });
  samples["jpeg+exif+padding"] = withSegmentsAfterSoi(await base.clone().jpeg().toBuffer(), [
    exifSegment(6),
    ...paddingSegments(9000),
  ]);
  samples["png+eXIf"] = await base.clone().png().withMetadata({ orientation: 3 }).toBuffer();
  samples["webp VP8X+EXIF"] = await base.clone().webp().withMetadata({ orientation: 8 }).toBuffer();
  samples["webp VP8L"] = await base.clone().webp({ lossless: true }).toBuffer();
  samples["gif"] = await base.clone().gif().toBuffer();
  samples["tiff"] = await base.clone().tiff().withMetadata({ orientation: 5 }).toBuffer();
  samples["avif"] = await base.clone().avif().withMetadata({ orientation: 7 }).toBuffer();
  samples["bmp"] = encodeBmp({ width: 9, height: 4, rgb: Buffer.alloc(9 * 4 * 3, 90), bits: 24 });
  samples["heif meta after mdat"] = syntheticHeif({
    ispe: [640, 480],
    transforms: [{ irot: 1 }],
    metaAfterMdat: true,
  });
  samples["heif grid in file"] = syntheticHeif({
    primaryType: "grid",
    grid: { width: 4000, height: 3000, in: "file" },
  });
  if (hasSharedFixtures) samples["heic fixture"] = readFixture("heif/example.heic");
});

describe("probeImage on truncated files", () => {
  it("rejects with bad_image or answers exactly as for the whole file, at every cut point", async () => {
    for (const [name, whole] of Object.entries(samples)) {
      const full = await probeImage(bufferReader(whole), { size: whole.length });
      const cuts = new Set<number>();
      for (let cut = 0; cut < Math.min(whole.length, 1200); cut++) cuts.add(cut);
      for (let cut = 1200; cut < whole.length; cut += 97) cuts.add(cut);
      for (const cut of cuts) {
        const part = whole.subarray(0, cut);
        for (const size of [cut, undefined]) {
          const result = await outcome(bufferReader(part), size);
          if (result instanceof TesseraError) continue;
          const context = `${name} cut at ${cut} of ${whole.length}, size ${size === undefined ? "unknown" : "known"}`;
          expect(
            { format: result.format, w: result.width, h: result.height, o: result.orientation },
            context,
          ).toEqual({ format: full.format, w: full.width, h: full.height, o: full.orientation });
        }
      }
    }
  });

  it("names the truncation", async () => {
    const jpeg = samples["jpeg+exif+padding"]!;
    const err = await rejection(probeImage(bufferReader(jpeg.subarray(0, 5000)), { size: 5000 }));
    expect(err.message).toMatch(/^truncated jpeg: /);
    const png = samples["png+eXIf"]!;
    expect((await rejection(probeImage(bufferReader(png.subarray(0, 20))))).message).toMatch(
      /^truncated png/,
    );
  });
});

describe("probeImage on random bytes behind real signatures", () => {
  it("never throws anything but bad_image", async () => {
    let state = 12345;
    const next = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state >>> 24;
    };
    const signatures = [
      Buffer.from([0xff, 0xd8, 0xff]),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
      Buffer.from("RIFF\0\0\0\0WEBPVP8X", "latin1"),
      Buffer.from("GIF89a", "latin1"),
      Buffer.from("II*\0", "latin1"),
      Buffer.from("BM", "latin1"),
      Buffer.from("\0\0\0\x18ftypheic\0\0\0\0mif1heic", "latin1"),
      Buffer.from("\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x40meta\0\0\0\0", "latin1"),
    ];
    for (const signature of signatures) {
      for (let round = 0; round < 300; round++) {
        const tail = Buffer.from(Array.from({ length: 16 + (round % 64) * 8 }, next));
        const bytes = Buffer.concat([signature, tail]);
        await outcome(bufferReader(bytes), round % 2 === 0 ? bytes.length : undefined);
      }
    }
  });
});

describe("probeImage on lying and hostile headers", () => {
  it("stops a decompression bomb from its header alone: PNG IHDR 100000x100000", async () => {
    const bomb = pngWithHeader(100_000, 100_000);
    const reads: number[] = [];
    const read: RangeReader = (start, end) => {
      reads.push(end - start + 1);
      return bufferReader(bomb)(start, end);
    };
    const err = await rejection(probeImage(read, { size: bomb.length }));
    expect(err.message).toBe(
      "decompression bomb: png header declares 100000x100000 = 10000000000 pixels, above the limit of 100000000",
    );
    expect(reads).toHaveLength(1);
  });

  it("applies a caller's pixel cap", async () => {
    const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    await expect(probeImage(bufferReader(png), { maxPixels: 19_999 })).rejects.toThrow(/decompression bomb/);
    await expect(probeImage(bufferReader(png), { maxPixels: 20_000 })).resolves.toMatchObject({ width: 200 });
  });

  it("rejects zero dimensions in every format's header", async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: "red" } })
      .jpeg()
      .toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    const zeroJpeg = Buffer.from(jpeg);
    zeroJpeg.writeUInt16BE(0, sof + 5);
    const gif = Buffer.from(
      await sharp({ create: { width: 8, height: 8, channels: 3, background: "red" } })
        .gif()
        .toBuffer(),
    );
    gif.writeUInt16LE(0, 6);
    const cases: [string, Buffer][] = [
      ["png", pngWithHeader(0, 10)],
      ["jpeg", zeroJpeg],
      ["gif", gif],
      ["heic", syntheticHeif({ ispe: [640, 0] })],
    ];
    for (const [format, bytes] of cases) {
      const err = await rejection(probeImage(bufferReader(bytes)));
      expect(err.message).toMatch(new RegExp(`^lying ${format} header: \\d+x\\d+ pixels$`));
    }
  });

  it("rejects impossible PNG headers", async () => {
    const ihdr = pngWithHeader(10, 10);
    ihdr[24] = 7; // bit depth 7
    expect((await rejection(probeImage(bufferReader(ihdr)))).message).toMatch(
      /colour type 2 with bit depth 7/,
    );
    const notFirst = Buffer.concat([
      ihdr.subarray(0, 8),
      pngChunk("tEXt", Buffer.from("a\0b")),
      ihdr.subarray(8),
    ]);
    expect((await rejection(probeImage(bufferReader(notFirst)))).message).toMatch(
      /first chunk is not a 13-byte IHDR/,
    );
  });

  it("rejects unknown formats and empty objects, describing what was found", async () => {
    const cases: [Buffer, number | undefined, RegExp][] = [
      [Buffer.from("%PDF-1.7\n..."), undefined, /^not an image \(unknown format\): starts with "%PDF-1.7"$/],
      [Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"), undefined, /unknown format/],
      [Buffer.alloc(0), 0, /empty object \(0 bytes\)/],
      [Buffer.alloc(0), undefined, /empty object \(0 bytes\)/],
      [Buffer.from([0xff, 0xd8]), undefined, /unknown format/],
    ];
    for (const [bytes, size, message] of cases) {
      const err = await rejection(probeImage(bufferReader(bytes), size === undefined ? {} : { size }));
      expect(err.message).toMatch(message);
    }
  });

  it("lets the reader's own errors through, so a storage outage stays retryable", async () => {
    const outage = Object.assign(new Error("503 Slow Down"), { name: "SlowDown" });
    await expect(probeImage(() => Promise.reject(outage))).rejects.toBe(outage);
  });
});
