// The shapes real answers arrive in, applied to the answer the emulator produced, so a parser can
// be tested against each one on purpose: fenced JSON, prose around it, a cut-off answer, and for
// detection-like answers (a JSON list of objects with box_2d) the spatial oddities of GEMINI.md.
import type { ContentFault, ShapeFault } from "./faults.ts";
import type { GenerateContentResponse } from "./generate.ts";
import type { BlockedPromptResponse, SafetyStoppedResponse } from "./odd-shapes-safety.ts";
import { blockPrompt, stopForSafety } from "./odd-shapes-safety.ts";
import { textTokens, truncateToTokens } from "./usage.ts";

export type ShapedResponse = GenerateContentResponse | BlockedPromptResponse | SafetyStoppedResponse;

export interface Shaped {
  response: ShapedResponse;
  /** Output tokens the shaped answer bills (visible text plus thoughts). */
  outputTokens: number;
}

export function applyContentFaults(
  response: GenerateContentResponse,
  faults: readonly ContentFault[],
  truncateTokens: number | undefined,
): Shaped {
  if (faults.includes("block")) return { response: blockPrompt(response), outputTokens: 0 };
  if (faults.includes("safety")) return { response: stopForSafety(response), outputTokens: 0 };
  const thoughts = response.usageMetadata.thoughtsTokenCount ?? 0;
  const shapes = new Set(
    faults.filter((fault): fault is ShapeFault => fault !== "block" && fault !== "safety"),
  );
  if (shapes.size === 0) {
    return { response, outputTokens: response.usageMetadata.candidatesTokenCount + thoughts };
  }

  const [candidate] = response.candidates;
  const answer = candidate?.content.parts.findLast((part) => part.thought !== true);
  if (candidate === undefined || answer === undefined) {
    return { response, outputTokens: response.usageMetadata.candidatesTokenCount + thoughts };
  }
  const { text, truncated } = reshapeText(answer.text, shapes, truncateTokens);
  const candidatesTokens = textTokens(text);
  const { promptTokenCount } = response.usageMetadata;
  return {
    response: {
      ...response,
      candidates: [
        {
          ...candidate,
          content: {
            ...candidate.content,
            parts: candidate.content.parts.map((part) => (part === answer ? { text } : part)),
          },
          finishReason: truncated || candidate.finishReason === "MAX_TOKENS" ? "MAX_TOKENS" : "STOP",
        },
      ],
      usageMetadata: {
        ...response.usageMetadata,
        candidatesTokenCount: candidatesTokens,
        totalTokenCount: promptTokenCount + candidatesTokens + thoughts,
        candidatesTokensDetails: [{ modality: "TEXT", tokenCount: candidatesTokens }],
      },
    },
    outputTokens: candidatesTokens + thoughts,
  };
}

const PROSE_BEFORE = "Sure! Here is what I found in the image:\n\n";
const PROSE_AFTER = "\n\nLet me know if you would like me to refine any of these results.";

/**
 * Spatial faults first (they need the JSON intact), then the wrapping, then the cut, which is
 * what a model that runs out of tokens does to all of it. `truncated` says whether anything was cut.
 */
export function reshapeText(
  text: string,
  shapes: ReadonlySet<ShapeFault>,
  truncateTokens: number | undefined,
): { text: string; truncated: boolean } {
  let shaped = reshapeDetections(text, shapes);
  if (shapes.has("drop-key")) shaped = dropLastKey(shaped);
  if (shapes.has("garbled")) shaped = garble(shaped);
  if (shapes.has("fence")) shaped = `\`\`\`json\n${shaped}\n\`\`\``;
  if (shapes.has("prose")) shaped = `${PROSE_BEFORE}${shaped}${PROSE_AFTER}`;
  if (!shapes.has("truncate")) return { text: shaped, truncated: false };
  // Without a count, cut at half, so the fault always bites.
  const budget = truncateTokens ?? Math.max(1, Math.floor(textTokens(shaped) / 2));
  return truncateToTokens(shaped, budget);
}

/** A JSON object answer without its last member: with keyed images, the last image goes missing. */
function dropLastKey(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return text;
    const entries = Object.entries(parsed);
    return entries.length === 0 ? text : JSON.stringify(Object.fromEntries(entries.slice(0, -1)));
  } catch {
    return text;
  }
}

/** An answer that ignored the JSON it was asked for: prose, with no bracket or quote left in it. */
function garble(text: string): string {
  const words = text
    .replace(/[{}[\]"]/g, "")
    .replace(/([:,])(?=\S)/g, "$1 ")
    .replace(/\s+/g, " ")
    .trim();
  return `I would rather describe this in words. ${words}`.trim();
}

type Detection = Record<string, unknown> & { box_2d: number[] };

function reshapeDetections(text: string, shapes: ReadonlySet<ShapeFault>): string {
  const spatial = ["duplicates", "reversed-boxes", "over-1000", "seg-masks", "wrapped-boxes"] as const;
  if (!spatial.some((shape) => shapes.has(shape))) return text;
  let items: Detection[];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isDetectionList(parsed)) return text;
    items = parsed;
  } catch {
    return text;
  }
  if (shapes.has("duplicates"))
    items = items.flatMap((item) => [item, { ...item, box_2d: [...item.box_2d] }]);
  if (shapes.has("reversed-boxes")) {
    items = items.map((item) => {
      const [ymin, xmin, ymax, xmax] = item.box_2d as [number, number, number, number];
      return { ...item, box_2d: [ymax, xmax, ymin, xmin] };
    });
  }
  if (shapes.has("over-1000")) {
    // One corner exactly on the edge and one past it: both happen, and clamping must handle both.
    items = items.map((item) => {
      const [ymin, xmin] = item.box_2d as [number, number, number, number];
      return { ...item, box_2d: [ymin, xmin, 1000, 1004] };
    });
  }
  if (shapes.has("seg-masks")) items = items.map((item, index) => ({ ...item, mask: segTokens(index) }));
  return JSON.stringify(shapes.has("wrapped-boxes") ? { boxes: items } : items);
}

function isDetectionList(value: unknown): value is Detection[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (item: unknown) =>
        typeof item === "object" &&
        item !== null &&
        Array.isArray((item as { box_2d?: unknown }).box_2d) &&
        (item as { box_2d: unknown[] }).box_2d.length === 4 &&
        (item as { box_2d: unknown[] }).box_2d.every((value) => typeof value === "number"),
    )
  );
}

/** A mask as codebook tokens instead of a PNG, as 2.0-era models sometimes answer: 16 `<seg_N>`, N < 128. */
function segTokens(index: number): string {
  const tokens = Array.from({ length: 16 }, (_, k) => `<seg_${(index * 37 + k * 11) % 128}>`);
  return `<start_of_mask>${tokens.join("")}`;
}
