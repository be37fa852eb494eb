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
  return REQUEST_OVERHEAD + inlinePartBytes(imageBytes, "inline");
}

/** What one image adds to a request's size: its base64 inline, or only a reference otherwise. */
export function inlinePartBytes(imageBytes: number, transport: ImageTransport): number {
  return INLINE_PART_OVERHEAD + (transport === "inline" ? base64Length(imageBytes) : 0);
}

export type TransportPolicy = "auto" | ImageTransport;

export interface TransportCandidate {
  /** Bytes that will be sent (after any resize). */
  bytes: number;
  /** Requests of the run that send this image; more than one favours an upload. */
  uses?: number | undefined;
}

/**
 * The one transport rule, used by the planner (from header sizes) and the worker (from the bytes
 * it will send). A forced policy is kept. "auto" uploads through the Files API an image that
 * cannot go inline even alone, or that several requests send (uploaded once, referenced by each);
 * everything else goes inline. Without a Files API (`filesAvailable` false), auto means inline.
 */
export function chooseTransport(
  image: TransportCandidate,
  policy: TransportPolicy,
  maxInlineBytes: number,
  filesAvailable = true,
): ImageTransport {
  if (policy !== "auto") return policy;
  if (!filesAvailable) return "inline";
  const tooBig = inlineRequestBytes(image.bytes) > maxInlineBytes;
  return tooBig || (image.uses ?? 1) > 1 ? "files" : "inline";
}

/**
 * Transports for the images of one request: each by chooseTransport; then, under "auto" with a
 * Files API, the largest inline images move to the Files API until the request fits inline.
 */
export function requestTransports(
  images: readonly TransportCandidate[],
  policy: TransportPolicy,
  maxInlineBytes: number,
  filesAvailable = true,
): ImageTransport[] {
  const transports = images.map((image) => chooseTransport(image, policy, maxInlineBytes, filesAvailable));
  if (policy !== "auto" || !filesAvailable) return transports;
  const size = () =>
    REQUEST_OVERHEAD +
    images.reduce((sum, image, i) => sum + inlinePartBytes(image.bytes, transports[i]!), 0);
  const bySize = images.map((image, i) => ({ bytes: image.bytes, i })).sort((a, b) => b.bytes - a.bytes);
  for (const { i } of bySize) {
    if (size() <= maxInlineBytes) break;
    transports[i] = "files";
  }
  return transports;
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
