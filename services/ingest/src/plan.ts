import {
  chooseTransport,
  inlinePartBytes,
  REQUEST_OVERHEAD,
  type ImageTransport,
  type TransportPolicy,
} from "@tessera/gemini";

/**
 * Request planning: which transport each image takes and how images are packed into requests so
 * that no request breaks a Gemini limit. Pure: scans (runs and `tessera estimate`) use the
 * streaming RequestPacker, packRequests packs a list at once. The transport rule itself is
 * @tessera/gemini's chooseTransport, the same one the worker applies to the bytes it sends.
 */
export type { TransportPolicy };
export type Transport = ImageTransport;

export interface PlanImage {
  key: string;
  /** Bytes that will be sent (after any resize); the source size when that is not known yet. */
  bytes: number;
  /** Image tokens by the model's rule. */
  tokens: number;
  /** Requests or tasks of this run that use the image; more than one favours the Files API. */
  uses?: number;
}

export interface PackLimits {
  /** Images per request: the model's limit and the run's setting, whichever is lower. */
  maxImages: number;
  /** Inline request size after base64, text and JSON overhead included. */
  maxInlineBytes: number;
  /** The model's input token limit, and any per-request cap of the run. */
  maxInputTokens: number;
  /** Tokens of the prompt text sent with every request (its largest form, for maxImages images). */
  promptTokens: number;
}

export type PlannedImage<I extends PlanImage = PlanImage> = I & { transport: Transport };

export interface Plan<I extends PlanImage = PlanImage> {
  requests: PlannedImage<I>[][];
  /** Images that cannot be sent in any request, with the reason. */
  rejected: { image: I; reason: string }[];
}

export type PackStep<I extends PlanImage> =
  | { kind: "rejected"; reason: string }
  /** `closed`: a request this image did not fit in any more, now complete. */
  | { kind: "added"; closed?: PlannedImage<I>[] };

/**
 * Packs images into requests as they arrive (a scan streams them, in listing order), greedily:
 * a request closes when the next image would break a limit. `flush` returns the last one.
 */
export class RequestPacker<I extends PlanImage = PlanImage> {
  readonly #limits: PackLimits;
  readonly #policy: TransportPolicy;
  #current: PlannedImage<I>[] = [];
  #bytes = REQUEST_OVERHEAD;
  #tokens: number;

  constructor(limits: PackLimits, policy: TransportPolicy = "auto") {
    if (!Number.isInteger(limits.maxImages) || limits.maxImages < 1) {
      throw new RangeError("maxImages must be an integer of at least 1");
    }
    this.#limits = limits;
    this.#policy = policy;
    this.#tokens = limits.promptTokens;
  }

  add(image: I): PackStep<I> {
    const limits = this.#limits;
    const planned: PlannedImage<I> = {
      ...image,
      transport: chooseTransport(image, this.#policy, limits.maxInlineBytes),
    };
    const cost = inlinePartBytes(image.bytes, planned.transport);
    if (REQUEST_OVERHEAD + cost > limits.maxInlineBytes) {
      return {
        kind: "rejected",
        reason: `too large to send inline (${image.bytes} bytes) and transport is ${this.#policy}`,
      };
    }
    if (limits.promptTokens + image.tokens > limits.maxInputTokens) {
      return {
        kind: "rejected",
        reason: `${image.tokens} image tokens exceed the ${limits.maxInputTokens}-token input limit`,
      };
    }
    const full =
      this.#current.length >= limits.maxImages ||
      this.#bytes + cost > limits.maxInlineBytes ||
      this.#tokens + image.tokens > limits.maxInputTokens;
    const closed = full && this.#current.length > 0 ? this.flush() : undefined;
    this.#current.push(planned);
    this.#bytes += cost;
    this.#tokens += image.tokens;
    return closed === undefined ? { kind: "added" } : { kind: "added", closed };
  }

  /** The request being filled, closed now (undefined when empty). */
  flush(): PlannedImage<I>[] | undefined {
    if (this.#current.length === 0) return undefined;
    const request = this.#current;
    this.#current = [];
    this.#bytes = REQUEST_OVERHEAD;
    this.#tokens = this.#limits.promptTokens;
    return request;
  }
}

/** Packs a whole list, in order, into as few requests as the limits allow. */
export function packRequests<I extends PlanImage>(
  images: readonly I[],
  limits: PackLimits,
  policy: TransportPolicy = "auto",
): Plan<I> {
  const packer = new RequestPacker<I>(limits, policy);
  const plan: Plan<I> = { requests: [], rejected: [] };
  for (const image of images) {
    const step = packer.add(image);
    if (step.kind === "rejected") plan.rejected.push({ image, reason: step.reason });
    else if (step.closed) plan.requests.push(step.closed);
  }
  const last = packer.flush();
  if (last) plan.requests.push(last);
  return plan;
}
