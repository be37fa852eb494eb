import { describeUnknownBytes, SNIFF_BYTES, sniffImage } from "@tessera/imaging";
import type { ObjectInfo, Storage } from "@tessera/storage";

export type Classified =
  | { kind: "image"; object: ObjectInfo; mime: string }
  | { kind: "broken"; object: ObjectInfo; reason: string }
  | { kind: "skipped"; object: ObjectInfo; reason: string };

const IMAGE_NAME = /\.(png|jpe?g|webp|heic|heif|gif|bmp|tiff?|avif)$/i;

/**
 * Decides from the first bytes (a ranged read, never the whole object) whether an object is an
 * image Gemini accepts. Formats Gemini does not take are skipped with their name; converting them
 * is a later capability.
 */
export async function classifyObject(storage: Storage, object: ObjectInfo): Promise<Classified> {
  if (object.size === 0) {
    // No bytes to go by: the name is the only hint. An empty "photo.jpg" is a broken upload the
    // user must hear about; an empty marker or notes file is just not an image.
    const reason = "empty object (0 bytes)";
    return IMAGE_NAME.test(object.key)
      ? { kind: "broken", object, reason }
      : { kind: "skipped", object, reason };
  }
  const head = await storage.getRange(object.key, 0, SNIFF_BYTES - 1);
  const sniffed = sniffImage(head);
  if (!sniffed) return { kind: "skipped", object, reason: `not an image: ${describeUnknownBytes(head)}` };
  if (!sniffed.geminiSupported) {
    return { kind: "skipped", object, reason: `unsupported image format ${sniffed.mime}` };
  }
  return { kind: "image", object, mime: sniffed.mime };
}
