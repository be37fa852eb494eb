// A shape's probability map as Gemini sends it: a base64 PNG data URL, greyscale 0..255.
import sharp from "sharp";
import type { SeenShape } from "./see-scene.ts";

/**
 * "box": the map at the box's own size in the looked-at pixels (what a careful model would send).
 * A number: a square map of that side whatever the box's shape, as real models often send
 * (256x256); clients must resize it to the box, which this tests.
 */
export type MaskSize = "box" | number;

export async function maskDataUrl(shape: SeenShape, size: MaskSize): Promise<string> {
  const [x0, y0, x1, y1] = shape.box;
  const raw = { width: x1 - x0, height: y1 - y0, channels: 1 } as const;
  let image = sharp(Buffer.from(shape.map.buffer, shape.map.byteOffset, shape.map.length), { raw });
  if (size !== "box") image = image.resize(size, size, { fit: "fill", kernel: "linear" });
  // Greyscale, one channel: sharp would otherwise write the map as RGB.
  const png = await image.toColourspace("b-w").png({ compressionLevel: 9 }).toBuffer();
  return `data:image/png;base64,${png.toString("base64")}`;
}
