import type { FilesCache } from "./files-cache.ts";

/** How an image reaches Gemini: in the request, as an uploaded file, or as a URL Gemini fetches. */
export type ImageTransport = "inline" | "files" | "url";

/** An image as a `generateContent` part, ready to send. */
export type ImageRequestPart =
  { inlineData: { mimeType: string; data: string } } | { fileData: { fileUri: string; mimeType: string } };

export interface ImagePartOptions {
  transport: ImageTransport;
  bytes: Buffer;
  mimeType: string;
  /** The run the image belongs to: its uploads are deleted when the run is released. */
  runId: string;
  /** Required for "url": a URL Gemini can GET without credentials (Storage.presignGet). */
  presignedUrl?: string | undefined;
  /** Required for "files". */
  files?: Pick<FilesCache, "getOrUpload"> | undefined;
}

/** Base64 turns every 3 bytes into 4 characters. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** JSON around each inline part (`{"inlineData":{"mimeType":"image/jpeg","data":""}},`). */
export const INLINE_PART_OVERHEAD = 64;
/** The request envelope and the prompt text's own JSON, generously. */
export const REQUEST_OVERHEAD = 4_096;

/** Bytes of a request that carries this one image inline: what the inline limit applies to. */
export function inlineRequestBytes(imageBytes: number): number {
  return REQUEST_OVERHEAD + INLINE_PART_OVERHEAD + base64Length(imageBytes);
}

export function inlinePart(bytes: Buffer, mimeType: string): ImageRequestPart {
  return { inlineData: { mimeType, data: bytes.toString("base64") } };
}

/** Gemini fetches http(s) URLs itself; any other scheme would be taken for a Files API name. */
export function urlPart(url: string, mimeType: string): ImageRequestPart {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError("urlPart: not a valid URL");
  }
  if (protocol !== "https:" && protocol !== "http:") {
    throw new TypeError(`urlPart: Gemini fetches only http(s) URLs, got ${protocol}`);
  }
  return { fileData: { fileUri: url, mimeType } };
}

/**
 * Builds the request part for one image over the chosen transport. "files" uploads through the
 * shared cache (once per content, reused across workers and runs); "url" needs a pre-signed URL,
 * which file:// storage cannot give: choose another transport for it.
 */
export async function imagePart(opts: ImagePartOptions): Promise<ImageRequestPart> {
  switch (opts.transport) {
    case "inline":
      return inlinePart(opts.bytes, opts.mimeType);
    case "url":
      if (opts.presignedUrl === undefined) {
        throw new TypeError('imagePart: transport "url" needs a presignedUrl (file:// storage has none)');
      }
      return urlPart(opts.presignedUrl, opts.mimeType);
    case "files": {
      if (opts.files === undefined) throw new TypeError('imagePart: transport "files" needs a FilesCache');
      const file = await opts.files.getOrUpload({
        bytes: opts.bytes,
        mimeType: opts.mimeType,
        runId: opts.runId,
      });
      return { fileData: { fileUri: file.fileUri, mimeType: file.mimeType } };
    }
  }
}
