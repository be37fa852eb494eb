import { TesseraError } from "@tessera/core";
import { probeImage, type ProbeResult } from "@tessera/imaging/header";
import type { ObjectInfo, Storage } from "@tessera/storage";

export type Classified =
  | { kind: "image"; object: ObjectInfo; probe: ProbeResult }
  | { kind: "broken"; object: ObjectInfo; reason: string }
  | { kind: "skipped"; object: ObjectInfo; reason: string };

export type ConvertPolicy = "convert" | "skip";

const IMAGE_NAME = /\.(png|jpe?g|webp|heic|heif|gif|bmp|tiff?|avif)$/i;

/**
 * Decides from the header alone (ranged reads of the first kilobytes, never the whole object)
 * whether an object is an image, and reads its display size. Unknown bytes are skipped; a header
 * that is truncated, lying or a decompression bomb makes the image fail with the reason; formats
 * Gemini does not take are converted later or skipped, as the run's policy says.
 */
export async function classifyObject(
  storage: Storage,
  object: ObjectInfo,
  convert: ConvertPolicy = "convert",
): Promise<Classified> {
  if (object.size === 0) {
    // No bytes to go by: the name is the only hint. An empty "photo.jpg" is a broken upload the
    // user must hear about; an empty marker or notes file is just not an image.
    const reason = "empty object (0 bytes)";
    return IMAGE_NAME.test(object.key)
      ? { kind: "broken", object, reason }
      : { kind: "skipped", object, reason };
  }
  let probe: ProbeResult;
  try {
    probe = await probeImage((start, end) => storage.getRange(object.key, start, end), { size: object.size });
  } catch (err) {
    if (!(err instanceof TesseraError) || err.errorClass !== "bad_image") throw err;
    if (err.message.startsWith("not an image"))
      return { kind: "skipped", object, reason: err.message.replace(" (unknown format)", "") };
    return { kind: "broken", object, reason: err.message };
  }
  if (!probe.geminiSupported && convert === "skip") {
    return { kind: "skipped", object, reason: `unsupported image format ${probe.mime} (policy: skip)` };
  }
  return { kind: "image", object, probe };
}
