import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { rleFromMask } from "../rle.ts";
import { labelColor, renderPreview } from "./preview.ts";
import type { LocatedObject } from "./record.ts";

async function pixels(
  png: Buffer,
): Promise<{ width: number; height: number; at: (x: number, y: number) => number[] }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at: (x, y) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)],
  };
}

const near = (a: number[], b: readonly number[], tolerance = 12): boolean =>
  a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

describe("renderPreview", () => {
  it("draws boxes, tags and masks over the upright image", async () => {
    // Stored 300x400 with EXIF orientation 6: displayed 400x300.
    const image = await sharp({ create: { width: 300, height: 400, channels: 3, background: "#ffffff" } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const data = new Uint8Array(60 * 60).fill(1);
    const object: LocatedObject = {
      label: "cup",
      box: [100, 100, 220, 220],
      rle: rleFromMask({ frame: { width: 400, height: 300 }, box: [130, 130, 190, 190], data }),
    };
    const preview = await pixels(await renderPreview(image, [object]));
    const color = labelColor("cup");
    expect([preview.width, preview.height]).toEqual([400, 300]);
    expect(near(preview.at(100, 160), color)).toBe(true); // the box's left edge
    expect(near(preview.at(160, 110), [255, 255, 255])).toBe(true); // inside the box, outside the mask
    const tinted = preview.at(160, 160);
    expect(near(tinted, [255, 255, 255])).toBe(false);
    expect(near(tinted, color, 80)).toBe(true);
    expect(near(preview.at(350, 260), [255, 255, 255])).toBe(true); // away from everything
    // The tag sits above the box, in the box's colour with the label written on it.
    const tag = [...Array(40).keys()].map((dx) => preview.at(101 + dx, 90));
    expect(tag.filter((p) => near(p, color)).length).toBeGreaterThan(10);
    expect(tag.some((p) => !near(p, color, 40))).toBe(true);
  });

  it("scales a large image and its boxes down", async () => {
    const image = await sharp({ create: { width: 2048, height: 1024, channels: 3, background: "#ffffff" } })
      .png()
      .toBuffer();
    const preview = await pixels(
      await renderPreview(image, [{ label: "wide", box: [1024, 512, 2048, 1024] }]),
    );
    expect([preview.width, preview.height]).toEqual([1024, 512]);
    expect(near(preview.at(512, 400), labelColor("wide"))).toBe(true);
    expect(near(preview.at(400, 400), [255, 255, 255])).toBe(true);
  });
});
