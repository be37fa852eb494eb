import sharp from "sharp";

export type Rgb = { r: number; g: number; b: number };

export interface SceneOptions {
  width: number;
  height: number;
  background: Rgb;
  /** Rectangles drawn on top, in pixels. */
  boxes?: { x: number; y: number; width: number; height: number; color: Rgb }[];
  format?: "png" | "jpeg" | "webp";
}

/** A synthetic scene: a background and coloured rectangles, encoded like a real image file. */
export async function makeScene(options: SceneOptions): Promise<Buffer> {
  const boxes = options.boxes ?? [];
  const image = sharp({
    create: { width: options.width, height: options.height, channels: 3, background: options.background },
  }).composite(
    await Promise.all(
      boxes.map(async (box) => ({
        input: await sharp({
          create: { width: box.width, height: box.height, channels: 3, background: box.color },
        })
          .png()
          .toBuffer(),
        left: box.x,
        top: box.y,
      })),
    ),
  );
  switch (options.format ?? "png") {
    case "png":
      return image.png().toBuffer();
    case "jpeg":
      return image.jpeg({ quality: 90 }).toBuffer();
    case "webp":
      return image.webp({ quality: 90 }).toBuffer();
  }
}

export const COLORS = {
  red: { r: 208, g: 32, b: 32 },
  green: { r: 32, g: 160, b: 64 },
  blue: { r: 32, g: 64, b: 200 },
  yellow: { r: 240, g: 210, b: 40 },
  white: { r: 245, g: 245, b: 245 },
  black: { r: 15, g: 15, b: 15 },
} as const satisfies Record<string, Rgb>;
