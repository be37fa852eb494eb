import { existsSync, readFileSync } from "node:fs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { inspectImage } from "./inspect.ts";

const FIXTURES = new URL("../../../../shared/fixtures/", import.meta.url);
const hasShared = existsSync(FIXTURES);

async function rejection(p: Promise<unknown>): Promise<TesseraError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TesseraError);
  return err as TesseraError;
}

describe("inspectImage", () => {
  it("reads format and size of a valid image", async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    const info = await inspectImage(png);
    expect(info).toMatchObject({ format: "png", mime: "image/png", width: 64, height: 48, orientation: 1 });
    expect(info.bytes).toBe(png.length);
    expect(info.warnings).toEqual([]);
  });

  it("reports display size after EXIF orientation", async () => {
    const jpeg = await sharp({ create: { width: 60, height: 20, channels: 3, background: "blue" } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await inspectImage(jpeg)).toMatchObject({ width: 20, height: 60, orientation: 6 });
  });

  it("classifies zero bytes, truncation, text and unsupported formats as bad images", async () => {
    const jpeg = await sharp({ create: { width: 400, height: 300, channels: 3, background: "red" } })
      .jpeg()
      .toBuffer();
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .gif()
      .toBuffer();
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(0), /empty object/],
      [jpeg.subarray(0, jpeg.length / 2), /undecodable jpeg: .*premature end/i],
      [Buffer.from("hello, world"), /not an image/],
      [gif, /unsupported image format image\/gif/],
    ];
    for (const [bytes, message] of cases) {
      const err = await rejection(inspectImage(bytes));
      expect(err.errorClass).toBe("bad_image");
      expect(err.message).toMatch(message);
    }
  });

  it.skipIf(!hasShared)(
    "sends HEVC HEIC on its headers with a warning (needs ../shared/fixtures)",
    async () => {
      const heic = readFileSync(new URL("heif/example.heic", FIXTURES));
      const info = await inspectImage(heic);
      expect(info).toMatchObject({ format: "heic", width: 1280, height: 854 });
      expect(info.warnings[0]).toMatch(/HEVC/);
    },
  );
});
