import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";

type Rgb = { r: number; g: number; b: number };

const SCENES: {
  name: string;
  width: number;
  height: number;
  background: Rgb;
  shapes: { color: Rgb; x: number; y: number; w: number; h: number }[];
  format: "png" | "jpeg" | "webp";
}[] = [
  {
    name: "beach/sunset.jpg",
    width: 1024,
    height: 768,
    background: { r: 250, g: 150, b: 60 },
    shapes: [{ color: { r: 30, g: 80, b: 200 }, x: 0, y: 500, w: 1024, h: 268 }],
    format: "jpeg",
  },
  {
    name: "beach/noon.jpg",
    width: 800,
    height: 600,
    background: { r: 120, g: 190, b: 250 },
    shapes: [{ color: { r: 240, g: 220, b: 160 }, x: 0, y: 420, w: 800, h: 180 }],
    format: "jpeg",
  },
  {
    name: "forest/pines.png",
    width: 640,
    height: 960,
    background: { r: 30, g: 110, b: 50 },
    shapes: [{ color: { r: 90, g: 60, b: 30 }, x: 280, y: 600, w: 80, h: 360 }],
    format: "png",
  },
  {
    name: "forest/clearing.webp",
    width: 960,
    height: 540,
    background: { r: 60, g: 150, b: 70 },
    shapes: [{ color: { r: 230, g: 230, b: 90 }, x: 380, y: 170, w: 200, h: 200 }],
    format: "webp",
  },
  {
    name: "city/night.png",
    width: 1280,
    height: 720,
    background: { r: 15, g: 15, b: 40 },
    shapes: [
      { color: { r: 250, g: 220, b: 80 }, x: 100, y: 300, w: 60, h: 40 },
      { color: { r: 250, g: 220, b: 80 }, x: 900, y: 200, w: 60, h: 40 },
    ],
    format: "png",
  },
  {
    name: "city/snow.jpg",
    width: 300,
    height: 300,
    background: { r: 240, g: 240, b: 245 },
    shapes: [{ color: { r: 200, g: 30, b: 30 }, x: 100, y: 100, w: 100, h: 120 }],
    format: "jpeg",
  },
  {
    name: "misc/red-square.png",
    width: 256,
    height: 256,
    background: { r: 255, g: 255, b: 255 },
    shapes: [{ color: { r: 220, g: 20, b: 20 }, x: 64, y: 64, w: 128, h: 128 }],
    format: "png",
  },
  {
    name: "misc/wide-panorama.jpg",
    width: 2400,
    height: 400,
    background: { r: 100, g: 160, b: 220 },
    shapes: [{ color: { r: 70, g: 90, b: 60 }, x: 0, y: 250, w: 2400, h: 150 }],
    format: "jpeg",
  },
];

/**
 * Writes the demo's sample dataset: synthetic scenes in several formats and sizes, plus the
 * kinds of object real buckets hold: a text file (skipped) and a torn JPEG (fails with a reason).
 */
export async function writeDemoImages(dir: string): Promise<number> {
  for (const scene of SCENES) {
    const composites = await Promise.all(
      scene.shapes.map(async (s) => ({
        input: await sharp({ create: { width: s.w, height: s.h, channels: 3, background: s.color } })
          .png()
          .toBuffer(),
        left: s.x,
        top: s.y,
      })),
    );
    const image = sharp({
      create: { width: scene.width, height: scene.height, channels: 3, background: scene.background },
    }).composite(composites);
    const bytes = await (
      scene.format === "png"
        ? image.png()
        : scene.format === "jpeg"
          ? image.jpeg({ quality: 85 })
          : image.webp()
    ).toBuffer();
    const path = join(dir, scene.name);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, bytes);
  }
  const torn = await sharp({
    create: { width: 640, height: 480, channels: 3, background: { r: 10, g: 200, b: 10 } },
  })
    .jpeg()
    .toBuffer();
  await writeFile(join(dir, "misc/torn-upload.jpg"), torn.subarray(0, Math.floor(torn.length / 2)));
  await writeFile(join(dir, "README.txt"), "Sample images for the Tessera demo.\n");
  return SCENES.length + 2;
}
