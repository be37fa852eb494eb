import { prepareImage } from "@tessera/imaging";
import { COLORS, generateScene, makeScene, type SceneFormat } from "@tessera/testing";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeUpright } from "./raster.ts";
import { seeScene } from "./see-scene.ts";

describe("seeScene", () => {
  it.each<[SceneFormat, number, number, "standard" | "low"]>([
    ["png", 640, 480, "standard"],
    ["jpeg", 800, 600, "low"],
    ["webp", 300, 500, "standard"],
    ["jpeg", 120, 90, "standard"],
  ])(
    "finds every shape of a %s %dx%d scene sent at %s detail, to the pixel",
    async (format, width, height, detail) => {
      const { bytes, truth } = await generateScene({ width, height, seed: width, format, shapes: 6 });
      const sent = await prepareImage(bytes, { detail, convert: "convert" });
      const view = seeScene(await decodeUpright(sent.bytes, 1024));
      expect(view.isScene).toBe(true);
      expect(view.background.colour).toBe("white");
      expect(view.shapes.map((s) => s.label).sort()).toEqual(truth.objects.map((o) => o.label).sort());
      const [sx, sy] = [sent.width / width, sent.height / height];
      for (const object of truth.objects) {
        const shape = view.shapes.find((s) => s.label === object.label)!;
        const expected = [object.box[0] * sx, object.box[1] * sy, object.box[2] * sx, object.box[3] * sy];
        shape.box.forEach((v, k) =>
          expect(Math.abs(v - expected[k]!), `${object.label} box[${k}]`).toBeLessThanOrEqual(1.5),
        );
      }
    },
  );

  it("lists shapes largest first and maps each one's inside above 127", async () => {
    const { bytes, truth } = await generateScene({ width: 400, height: 300, seed: 11, shapes: 4 });
    const view = seeScene(await decodeUpright(bytes, 1024));
    const areas = view.shapes.map((s) => s.area);
    expect(areas).toEqual([...areas].sort((a, b) => b - a));
    for (const shape of view.shapes) {
      const object = truth.objects.find((o) => o.label === shape.label)!;
      expect(shape.box).toEqual(object.box);
      const inside = Array.from(shape.map, (v) => (v > 127 ? 1 : 0));
      expect(inside).toEqual(Array.from(object.mask.data));
    }
  });

  it("sees the rectangle in a corner of makeScene's flags, on their coloured background", async () => {
    const bytes = await makeScene({
      width: 320,
      height: 240,
      background: COLORS.red,
      boxes: [{ x: 0, y: 0, width: 80, height: 60, color: COLORS.blue }],
      format: "jpeg",
    });
    const view = seeScene(await decodeUpright(bytes, 1024));
    expect(view.background.colour).toBe("red");
    expect(view.shapes.map((s) => [s.label, s.box])).toEqual([["blue rectangle", [0, 0, 80, 60]]]);
  });

  it("calls a plain image a scene without shapes, and a photo no scene at all", async () => {
    const plain = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#10a040" } })
      .png()
      .toBuffer();
    expect(seeScene(await decodeUpright(plain, 1024))).toMatchObject({ isScene: true, shapes: [] });

    const [w, h] = [160, 120];
    const pixels = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const [x, y] = [i % w, Math.floor(i / w)];
      pixels.set([(x * 255) / w, (y * 255) / h, ((x * y) >> 3) & 255], i * 3);
    }
    const photo = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect(seeScene(await decodeUpright(photo, 1024))).toMatchObject({ isScene: false, shapes: [] });
  });

  it("looks at large images scaled down, keeping their proportions", async () => {
    const { bytes } = await generateScene({ width: 1600, height: 800, seed: 5, shapes: 3 });
    const raster = await decodeUpright(bytes, 400);
    expect([raster.width, raster.height]).toEqual([400, 200]);
    expect(seeScene(raster).shapes).toHaveLength(3);
  });
});
