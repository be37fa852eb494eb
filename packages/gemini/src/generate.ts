import { MediaModality, type GenerateContentResponse, type GoogleGenAI } from "@google/genai";
import { TesseraError, type Usage } from "@tessera/core";
import { classifyGeminiError } from "./errors.ts";
import { inlinePart, type ImageRequestPart } from "./transport.ts";

/** Image bytes, sent inline. */
export interface ImagePart {
  mimeType: string;
  data: Buffer;
}

export interface GenerateRequest {
  model: string;
  /** Bytes to send inline, or parts already built for their transport (see imagePart). */
  images: (ImagePart | ImageRequestPart)[];
  prompt: string;
  /**
   * The user turn in order, when a task lays it out itself (labels between images): image parts
   * refer to `images` by index. Default: every image, then the prompt.
   */
  parts?: ({ kind: "image"; index: number } | { kind: "text"; text: string })[];
  systemInstruction?: string;
  /** Structured output, thinking and sampling settings of the task. */
  generationConfig?: {
    responseMimeType?: string;
    responseJsonSchema?: unknown;
    thinkingConfig?: { thinkingBudget: number };
    temperature?: number;
  };
  maxOutputTokens?: number;
  signal?: AbortSignal;
}

export interface GenerateResult {
  text: string;
  usage: Usage;
  finishReason: string | undefined;
  modelVersion: string | undefined;
  responseId: string | undefined;
}

const BLOCKING_FINISH = new Set([
  "SAFETY",
  "PROHIBITED_CONTENT",
  "IMAGE_SAFETY",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
]);

/** Token counts from usageMetadata; image tokens come from the per-modality breakdown. */
export function usageFrom(response: GenerateContentResponse): Usage {
  const meta = response.usageMetadata;
  const imageTokens = (meta?.promptTokensDetails ?? [])
    .filter((d) => d.modality === MediaModality.IMAGE)
    .reduce((sum, d) => sum + (d.tokenCount ?? 0), 0);
  return {
    promptTokens: meta?.promptTokenCount ?? 0,
    outputTokens: meta?.candidatesTokenCount ?? 0,
    imageTokens,
    thoughtsTokens: meta?.thoughtsTokenCount ?? 0,
    totalTokens: meta?.totalTokenCount ?? 0,
  };
}

/**
 * Reads the answer text, refusing blocked answers. Reasoning parts (`thought: true`) are not
 * the answer and are left out.
 */
export function answerFrom(response: GenerateContentResponse): {
  text: string;
  finishReason: string | undefined;
} {
  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason) throw new TesseraError("blocked", `prompt blocked: ${blockReason}`);
  const candidate = response.candidates?.[0];
  const finishReason = candidate?.finishReason;
  if (finishReason && BLOCKING_FINISH.has(finishReason)) {
    throw new TesseraError("blocked", `answer blocked: finishReason ${finishReason}`);
  }
  const text = (candidate?.content?.parts ?? [])
    .filter((p) => p.thought !== true && typeof p.text === "string")
    .map((p) => p.text)
    .join("");
  if (text.trim() === "") {
    throw new TesseraError("unparseable", `empty answer (finishReason ${finishReason ?? "none"})`);
  }
  return { text, finishReason };
}

/**
 * One generateContent call with the images (inline, uploaded or by URL), each before the text
 * prompt as the guide advises.
 */
function userParts(request: GenerateRequest): (ImageRequestPart | { text: string })[] {
  const image = (index: number): ImageRequestPart => {
    const img = request.images[index];
    if (img === undefined)
      throw new RangeError(`part refers to image ${index}, but the request has ${request.images.length}`);
    return "data" in img ? inlinePart(img.data, img.mimeType) : img;
  };
  if (request.parts === undefined)
    return [...request.images.map((_, i) => image(i)), { text: request.prompt }];
  return request.parts.map((part) => (part.kind === "image" ? image(part.index) : { text: part.text }));
}

export async function generate(client: GoogleGenAI, request: GenerateRequest): Promise<GenerateResult> {
  let response: GenerateContentResponse;
  try {
    response = await client.models.generateContent({
      model: request.model,
      contents: [{ role: "user", parts: userParts(request) }],
      config: {
        ...request.generationConfig,
        ...(request.systemInstruction === undefined ? {} : { systemInstruction: request.systemInstruction }),
        ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
        ...(request.signal === undefined ? {} : { abortSignal: request.signal }),
      },
    });
  } catch (err) {
    throw classifyGeminiError(err);
  }
  const { text, finishReason } = answerFrom(response);
  return {
    text,
    finishReason,
    usage: usageFrom(response),
    modelVersion: response.modelVersion,
    responseId: response.responseId,
  };
}
