import { base64Length, INLINE_PART_OVERHEAD, inlineRequestBytes, REQUEST_OVERHEAD } from "@tessera/gemini";

/**
 * Request planning: which transport each image takes and how images are packed into requests so
 * that no request breaks a Gemini limit. Pure functions: ingest, `estimate` and batch building
 * all use them.
 */
export type Transport = "inline" | "files" | "url";
export type TransportPolicy = "auto" | Transport;

export interface PlanImage {
  key: string;
  /** Bytes that will be sent (after any resize). */
  bytes: number;
  /** Image tokens by the model's rule. */
  tokens: number;
  /** Requests or tasks of this run that use the image; more than one favours the Files API. */
  uses?: number;
}

export interface PackLimits {
  /** Images per request: the model's limit and the task's setting, whichever is lower. */
  maxImages: number;
  /** Inline request size after base64, text and JSON overhead included. */
  maxInlineBytes: number;
  /** The model's input token limit, and any per-request cap of the run. */
  maxInputTokens: number;
  /** Tokens of the prompt text sent with every request. */
  promptTokens: number;
}

export interface PlannedImage extends PlanImage {
  transport: Transport;
}

export interface Plan {
  requests: PlannedImage[][];
  /** Images that cannot be sent in any request, with the reason. */
  rejected: { image: PlanImage; reason: string }[];
}

export function chooseTransport(
  image: PlanImage,
  policy: TransportPolicy,
  maxInlineBytes: number,
): Transport {
  if (policy !== "auto") return policy;
  const alone = inlineRequestBytes(image.bytes);
  // Uploading once beats re-sending bytes when the image is used again, and is the only way for
  // images too big to go inline.
  if (alone > maxInlineBytes || (image.uses ?? 1) > 1) return "files";
  return "inline";
}

function inlineCost(image: PlannedImage): number {
  return image.transport === "inline"
    ? INLINE_PART_OVERHEAD + base64Length(image.bytes)
    : INLINE_PART_OVERHEAD;
}

/**
 * Packs images, in order, into as few requests as the limits allow (greedy: order is kept so a
 * request holds neighbouring keys, which is what multi-image prompts expect).
 */
export function packRequests(
  images: PlanImage[],
  limits: PackLimits,
  policy: TransportPolicy = "auto",
): Plan {
  if (limits.maxImages < 1) throw new RangeError("maxImages must be at least 1");
  const requests: PlannedImage[][] = [];
  const rejected: Plan["rejected"] = [];
  let current: PlannedImage[] = [];
  let bytes = REQUEST_OVERHEAD;
  let tokens = limits.promptTokens;

  for (const image of images) {
    const planned: PlannedImage = {
      ...image,
      transport: chooseTransport(image, policy, limits.maxInlineBytes),
    };
    const cost = inlineCost(planned);
    if (REQUEST_OVERHEAD + cost > limits.maxInlineBytes) {
      rejected.push({
        image,
        reason: `too large to send inline (${image.bytes} bytes) and transport is ${policy}`,
      });
      continue;
    }
    if (limits.promptTokens + image.tokens > limits.maxInputTokens) {
      rejected.push({
        image,
        reason: `${image.tokens} image tokens exceed the ${limits.maxInputTokens}-token input limit`,
      });
      continue;
    }
    const full =
      current.length >= limits.maxImages ||
      bytes + cost > limits.maxInlineBytes ||
      tokens + image.tokens > limits.maxInputTokens;
    if (full && current.length > 0) {
      requests.push(current);
      current = [];
      bytes = REQUEST_OVERHEAD;
      tokens = limits.promptTokens;
    }
    current.push(planned);
    bytes += cost;
    tokens += image.tokens;
  }
  if (current.length > 0) requests.push(current);
  return { requests, rejected };
}
