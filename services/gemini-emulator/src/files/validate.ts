// What "processing" an upload means here: a file that claims to be a supported image must be one,
// decodable the way a generateContent call would decode it; otherwise it ends up FAILED.
import { EmulatorApiError } from "../errors.ts";
import { analyseImage } from "../image.ts";
import { SUPPORTED_IMAGE_TYPES, checkImageBytes } from "../request.ts";

/** Why the bytes are not the image they claim to be, or undefined when they are (or claim no image type). */
export async function imageProblem(mimeType: string, bytes: Buffer): Promise<string | undefined> {
  const type = mimeType.trim().toLowerCase();
  if (!SUPPORTED_IMAGE_TYPES.includes(type)) return undefined;
  try {
    checkImageBytes(bytes, type, "file");
    await analyseImage({ index: 0, field: "file", mimeType: type, bytes, mediaResolution: undefined });
    return undefined;
  } catch (error) {
    if (!(error instanceof EmulatorApiError)) throw error;
    return reasonOf(error);
  }
}

/** The BadRequest detail says what was wrong; the message alone is the API's generic one. */
function reasonOf(error: EmulatorApiError): string {
  for (const detail of error.body.error.details) {
    const violations = detail["fieldViolations"];
    if (!Array.isArray(violations)) continue;
    const first: unknown = violations[0];
    if (typeof first === "object" && first !== null && "description" in first) {
      return `Unable to process the image: ${String(first.description)}.`;
    }
  }
  return error.message;
}
