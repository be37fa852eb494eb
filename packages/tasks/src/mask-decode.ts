import type { GrayImage } from "./mask-raster.ts";
import type { Problem } from "./warnings.ts";

const PNG_PREFIX = "data:image/png;base64,";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Masks are small (Gemini sends 256x256); a bigger header is a hostile or broken answer. */
const MAX_MASK_PIXELS = 4096 * 4096;

/**
 * The probability map a segmentation item carries, or undefined with the reason among `problems`.
 * Every way a real answer gets this wrong (no mask, `<seg_N>` tokens, another format, broken
 * base64, a PNG that does not decode) is a counted warning, never an exception.
 */
export async function decodeMask(
  value: unknown,
  where: string,
  problems: Problem[],
): Promise<GrayImage | undefined> {
  if (typeof value !== "string" || value.trim() === "") {
    problems.push({ code: "mask_missing", message: `${where}: no mask` });
    return undefined;
  }
  let text = value.trim();
  if (/<seg_\d+>/.test(text)) {
    problems.push({ code: "mask_not_png", message: `${where}: mask given as <seg_N> tokens, not a PNG` });
    return undefined;
  }
  if (text.startsWith(PNG_PREFIX)) {
    text = text.slice(PNG_PREFIX.length);
  } else if (text.startsWith("data:")) {
    const kind = text.slice(5, text.indexOf(",") === -1 ? 40 : text.indexOf(","));
    problems.push({ code: "mask_not_png", message: `${where}: mask is "${kind}", not a base64 PNG` });
    return undefined;
  } else {
    problems.push({
      code: "mask_without_prefix",
      message: `${where}: mask without the data:image/png;base64, prefix`,
    });
  }
  text = text.replace(/\s+/g, "");
  if (!BASE64.test(text) || text.length % 4 === 1) {
    problems.push({ code: "mask_bad_base64", message: `${where}: mask is not valid base64` });
    return undefined;
  }
  const bytes = Buffer.from(text, text.includes("-") || text.includes("_") ? "base64url" : "base64");
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    problems.push({ code: "mask_not_png", message: `${where}: mask bytes are not a PNG` });
    return undefined;
  }
  try {
    // Loaded on first use: the scan imports this package and must not pay for sharp.
    const { default: sharp } = await import("sharp");
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_MASK_PIXELS, failOn: "error" })
      .removeAlpha()
      .toColourspace("b-w")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || data.length !== info.width * info.height) {
      throw new Error(`decoded to ${info.channels} channels`);
    }
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (err) {
    const reason = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    problems.push({ code: "mask_undecodable", message: `${where}: mask PNG does not decode (${reason})` });
    return undefined;
  }
}
