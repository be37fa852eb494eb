// The pixels sight looks at: the image as the model sees it (EXIF orientation applied, alpha
// flattened onto white), as interleaved 8-bit RGB.
import sharp, { type Sharp } from "sharp";
import { decodeHeif } from "@tessera/imaging";

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export interface Raster {
  width: number;
  height: number;
  /** Interleaved RGB, row-major. */
  data: Uint8Array;
}

/**
 * Decodes `bytes` upright. Images larger than `maxSide` are looked at scaled down: boxes come out
 * on the 0..1000 grid of the whole image, so nothing is lost that the grid could show, and a
 * 12-megapixel original would otherwise cost seconds of pure JavaScript per request.
 */
export async function decodeUpright(bytes: Buffer, maxSide: number): Promise<Raster> {
  const { data, info } = await (
    await uprightSource(bytes)
  )
    .resize({ width: maxSide, height: maxSide, fit: "inside", withoutEnlargement: true })
    .flatten({ background: "#ffffff" })
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  // A plain Uint8Array view: element access on a Buffer subclass is measurably slower in V8.
  if (channels === 3)
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  // Greyscale sources can come out with one channel whatever the colourspace asked for.
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const v = data[i * channels]!;
    rgb[i * 3] = v;
    rgb[i * 3 + 1] = channels >= 3 ? data[i * channels + 1]! : v;
    rgb[i * 3 + 2] = channels >= 3 ? data[i * channels + 2]! : v;
  }
  return { width, height, data: rgb };
}

/**
 * sharp for everything it decodes; HEVC-coded HEIC (which sharp's prebuilt libvips cannot decode,
 * while Gemini can) through the WebAssembly libheif of @tessera/imaging, which applies the
 * file's own rotation and mirroring.
 */
async function uprightSource(bytes: Buffer): Promise<Sharp> {
  try {
    const image = sharp(bytes, { failOn: "truncated" });
    await image.clone().resize(8, 8).raw().toBuffer();
    return image.rotate();
  } catch (error) {
    if (!/HEVC|has not been built in/i.test(String(error))) throw error;
    const decoded = decodeHeif(bytes);
    return sharp(decoded.data, { raw: { width: decoded.width, height: decoded.height, channels: 3 } });
  }
}

export function distance2(a: Rgb, r: number, g: number, b: number): number {
  return (r - a.r) ** 2 + (g - a.g) ** 2 + (b - a.b) ** 2;
}
