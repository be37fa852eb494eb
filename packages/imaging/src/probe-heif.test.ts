import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { bufferReader, type RangeReader } from "./header-reader.ts";
import { probeImage } from "./probe.ts";
import { hasSharedFixtures, readFixture } from "./test-support/fixtures.ts";
import { syntheticHeif, withHeifTransforms } from "./test-support/heif-builder.ts";

function probe(bytes: Buffer, size: number | undefined = bytes.length): ReturnType<typeof probeImage> {
  return probeImage(bufferReader(bytes), size === undefined ? {} : { size });
}

describe("probeImage on HEIF structures", () => {
  it("reads ispe of the primary item, in 16- and 32-bit box variants", async () => {
    for (const wide of [false, true]) {
      expect(await probe(syntheticHeif({ ispe: [4032, 3024], wide }))).toMatchObject({
        format: "heic",
        width: 4032,
        height: 3024,
        orientation: 1,
        displayWidth: 4032,
        displayHeight: 3024,
      });
    }
  });

  it("takes a grid's size from its ispe when it has one", async () => {
    const file = syntheticHeif({
      primaryType: "grid",
      ispe: [8064, 6048],
      grid: { width: 1, height: 1, in: "idat" },
    });
    expect(await probe(file)).toMatchObject({ width: 8064, height: 6048 });
  });

  it.each(["idat", "file"] as const)(
    "reads a grid's canvas from its ImageGrid data in %s when ispe is missing",
    async (where) => {
      for (const wide of [false, true]) {
        const file = syntheticHeif({
          primaryType: "grid",
          grid: { width: 5712, height: 4284, wide, in: where },
        });
        expect(await probe(file)).toMatchObject({ width: 5712, height: 4284 });
      }
    },
  );

  it("finds meta after a large mdat with one extra small read, with or without the size", async () => {
    const file = syntheticHeif({
      ispe: [1920, 1080],
      transforms: [{ irot: 3 }],
      metaAfterMdat: true,
      mdatBytes: 5_000_000,
    });
    for (const size of [file.length, undefined]) {
      const reads: [number, number][] = [];
      const read: RangeReader = (start, end) => {
        reads.push([start, end]);
        return bufferReader(file)(start, end);
      };
      const probed = await probeImage(read, size === undefined ? {} : { size });
      expect(probed).toMatchObject({
        width: 1920,
        height: 1080,
        orientation: 6,
        displayWidth: 1080,
        displayHeight: 1920,
      });
      expect(reads).toHaveLength(2);
      expect(probed.bytesRead).toBeLessThan(16 * 1024);
    }
  });

  it("turns irot/imir, in their order, into the EXIF orientation and display size", async () => {
    const cases = [
      [[{ irot: 1 }], 8],
      [[{ irot: 2 }], 3],
      [[{ imir: 0 }], 4],
      [[{ imir: 1 }], 2],
      [[{ irot: 3 }, { imir: 1 }], 5],
      [[{ imir: 1 }, { irot: 3 }], 7],
    ] as const;
    for (const [transforms, orientation] of cases) {
      const probed = await probe(syntheticHeif({ ispe: [300, 200], transforms: [...transforms] }));
      expect(probed.orientation, JSON.stringify(transforms)).toBe(orientation);
      expect(probed.displayWidth).toBe(orientation >= 5 ? 200 : 300);
    }
  });

  it.each([2, 3, 4, 5, 6, 7, 8])(
    "agrees with sharp on orientation %i written by libheif into an AVIF",
    async (o) => {
      const avif = await sharp({ create: { width: 60, height: 20, channels: 3, background: "red" } })
        .avif()
        .withMetadata({ orientation: o })
        .toBuffer();
      const probed = await probe(avif);
      const meta = await sharp(avif).metadata();
      expect(probed.orientation).toBe(o);
      // For HEIF, sharp reports the size after irot/imir.
      expect({ width: probed.displayWidth, height: probed.displayHeight }).toEqual({
        width: meta.width,
        height: meta.height,
      });
    },
  );

  it("recognises HEIF brands whatever the ftyp lists", async () => {
    expect((await probe(syntheticHeif({ brands: ["mif1", "mif1", "miaf"], ispe: [10, 10] }))).format).toBe(
      "heif",
    );
    expect((await probe(syntheticHeif({ brands: ["avif", "mif1", "avif"], ispe: [10, 10] }))).format).toBe(
      "avif",
    );
  });

  it("rejects a meta box that is not for an image, or has no primary item size", async () => {
    const cases: [Buffer, RegExp][] = [
      [syntheticHeif({ ispe: [10, 10], handler: "vide" }), /handler is "vide", not "pict"/],
      [syntheticHeif({}), /primary item 1 \(hvc1\) has no ispe size/],
      [syntheticHeif({ ispe: [0, 10] }), /lying heic header: 0x10 pixels/],
    ];
    for (const [bytes, message] of cases) {
      const err = await probe(bytes).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TesseraError);
      expect((err as TesseraError).message).toMatch(message);
    }
  });
});

describe.skipIf(!hasSharedFixtures)(
  "probeImage on the HEIC fixture with rotation added (needs ../shared/fixtures)",
  () => {
    it("reports what sharp reports for the rotated file", async () => {
      const heic = withHeifTransforms(readFixture("heif/example.heic"), [{ irot: 1 }, { imir: 0 }]);
      const probed = await probe(heic);
      const meta = await sharp(heic).metadata();
      expect(probed.orientation).toBe(5);
      expect({ width: probed.displayWidth, height: probed.displayHeight }).toEqual({
        width: meta.width,
        height: meta.height,
      });
      expect({ width: probed.width, height: probed.height }).toEqual({ width: 1280, height: 854 });
    });
  },
);
