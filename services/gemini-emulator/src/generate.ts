// The two model methods: what a generateContent or countTokens call answers, given a validated
// request. No HTTP here.
import { randomBytes } from "node:crypto";
import type { TokenRule } from "@tessera/imaging";
import { describeImages } from "./caption.ts";
import type { ImageAnalysis, ImageSizeInfo } from "./image.ts";
import { analyseImage, measureImage } from "./image.ts";
import type { InlineImage, ParsedRequest } from "./request.ts";
import { colourNamesOf, fillSchema, pickEnum } from "./schema-fill.ts";
import type { SightOptions } from "./sight/index.ts";
import { sightAnswer } from "./sight/index.ts";
import type { ModalityTokenCount, PricedImage, PromptTokens, UsageMetadata } from "./usage.ts";
import { promptTokens, textTokens, truncateToTokens, usageMetadata } from "./usage.ts";

export interface ResponsePart {
  text: string;
  thought?: true;
}

export interface GenerateContentResponse {
  candidates: {
    content: { role: "model"; parts: ResponsePart[] };
    finishReason: "STOP" | "MAX_TOKENS";
    index: number;
  }[];
  usageMetadata: UsageMetadata;
  modelVersion: string;
  responseId: string;
}

export interface CountTokensResponse {
  totalTokens: number;
  promptTokensDetails: ModalityTokenCount[];
}

export interface ModelCall {
  model: string;
  rule: TokenRule;
  /** How sight answers Tessera's tasks about synthetic scenes (mask format, analysis size). */
  sight?: SightOptions;
}

/** What the call cost, for the emulator's billing counters. */
export interface Billing {
  promptTokens: number;
  outputTokens: number;
}

/** sharp decodes on libuv's pool; more at once only queues there while holding more memory. */
const DECODE_CONCURRENCY = 4;

export async function generateContent(
  request: ParsedRequest,
  call: ModelCall,
): Promise<{ response: GenerateContentResponse; billing: Billing }> {
  const analyses = await mapLimit(request.images, analyseImage);
  const prompt = price(request, analyses, call.rule);

  const { generation } = request;
  // Tessera's own task requests get sight's answers; anything else the colour-based answer.
  const full =
    (await sightAnswer(request, analyses, call.sight)) ??
    composeAnswer(analyses, generation.responseMimeType, generation.schema);
  const max = generation.maxOutputTokens;
  const { text, truncated } =
    max === undefined ? { text: full, truncated: false } : truncateToTokens(full, max);

  const parts: ResponsePart[] = [];
  let thoughtsTokens = 0;
  if (generation.includeThoughts) {
    const thought = `Looking at ${analyses.length} image(s): measuring each one and counting its colours.`;
    parts.push({ text: thought, thought: true });
    thoughtsTokens = textTokens(thought);
  }
  parts.push({ text });
  const candidatesTokens = textTokens(text);

  return {
    response: {
      candidates: [
        { content: { role: "model", parts }, finishReason: truncated ? "MAX_TOKENS" : "STOP", index: 0 },
      ],
      usageMetadata: usageMetadata(prompt, candidatesTokens, thoughtsTokens),
      modelVersion: call.model,
      responseId: randomBytes(18).toString("base64url"),
    },
    billing: { promptTokens: prompt.total, outputTokens: candidatesTokens + thoughtsTokens },
  };
}

export async function countTokens(request: ParsedRequest, call: ModelCall): Promise<CountTokensResponse> {
  const sizes = await mapLimit(request.images, measureImage);
  const prompt = price(request, sizes, call.rule);
  return { totalTokens: prompt.total, promptTokensDetails: prompt.details };
}

/** Same images and settings in, same text out: tests predict it from the images they sent. */
export function composeAnswer(
  analyses: readonly ImageAnalysis[],
  responseMimeType: string,
  schema: unknown,
): string {
  const description = describeImages(analyses);
  if (responseMimeType === "text/x.enum" && isObject(schema) && Array.isArray(schema.enum)) {
    return String(pickEnum(schema.enum, analyses.flatMap(colourNamesOf)));
  }
  if (responseMimeType !== "application/json") return description;
  if (schema === undefined) return JSON.stringify({ caption: description });
  return JSON.stringify(fillSchema(schema, { images: analyses, description }));
}

function price(request: ParsedRequest, sizes: readonly ImageSizeInfo[], rule: TokenRule): PromptTokens {
  const priced: PricedImage[] = request.images.map((image, index) => ({
    width: sizes[index]!.width,
    height: sizes[index]!.height,
    mediaResolution: image.mediaResolution ?? request.generation.mediaResolution,
  }));
  return promptTokens(request.texts, priced, rule);
}

async function mapLimit<T>(
  images: readonly InlineImage[],
  task: (image: InlineImage) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(images.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < images.length) {
      const index = next;
      next += 1;
      results[index] = await task(images[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, images.length) }, worker));
  return results;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
