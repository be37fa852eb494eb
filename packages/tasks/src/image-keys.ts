import type { RequestPart } from "./contract.ts";
import type { JsonSchema } from "./json-schema.ts";
import { isCut } from "./json-extract.ts";
import { isRecord, type JsonAnswer } from "./outcome.ts";
import type { Problem } from "./warnings.ts";

// Images are named by position, never by file name: keys stay valid JSON property names, and
// the model is not swayed by whatever a file happens to be called.
export function imageKey(index: number): string {
  return `img_${index + 1}`;
}

export function imageKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => imageKey(i));
}

/** "img_1 to img_3" (or "img_1 and img_2"), as prompts name them. */
export function keyRange(count: number): string {
  return count === 2 ? "img_1 and img_2" : `img_1 to ${imageKey(count - 1)}`;
}

/**
 * The user turn: a lone image goes straight before the prompt (the guide's layout); several
 * images are each preceded by "Image img_N:" so the prompt and the answer can name them.
 */
export function layoutParts(imageCount: number, prompt: string): RequestPart[] {
  if (!Number.isInteger(imageCount) || imageCount < 1) {
    throw new RangeError(`a request needs at least one image, got ${imageCount}`);
  }
  const parts: RequestPart[] = [];
  for (let index = 0; index < imageCount; index++) {
    if (imageCount > 1) parts.push({ kind: "text", text: `Image ${imageKey(index)}:` });
    parts.push({ kind: "image", index });
  }
  parts.push({ kind: "text", text: prompt });
  return parts;
}

/** An object with one required member per image key, each following `perImage`. */
export function keyedSchema(count: number, perImage: JsonSchema): JsonSchema {
  const keys = imageKeys(count);
  return {
    type: "object",
    properties: Object.fromEntries(keys.map((k) => [k, perImage])),
    required: keys,
    propertyOrdering: keys,
  };
}

export type KeyedValue = { found: true; value: unknown; cut: boolean } | { found: false; why: string };

/**
 * Splits a keyed answer into one value per image. Keys the model spelled differently ("Image 1",
 * "img1") are accepted with a warning; keys for images that were not sent are reported and
 * ignored; a missing key only costs its own image.
 */
export function splitKeyed(json: JsonAnswer, count: number): { values: KeyedValue[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const { value, cutPath } = json;
  if (Array.isArray(value) && value.length === count) {
    problems.push({
      code: "loose_shape",
      message: `a list of ${count} answers instead of an object keyed by image; matched by position`,
    });
    return {
      values: (value as unknown[]).map((v, i) => ({ found: true, value: v, cut: isCut(cutPath, [i]) })),
      problems,
    };
  }
  const missing = (): KeyedValue => ({
    found: false,
    why: json.truncated ? "missing from the answer, which was cut off" : "missing from the answer",
  });
  if (!isRecord(value)) {
    return { values: Array.from({ length: count }, missing), problems };
  }
  const values: KeyedValue[] = Array.from({ length: count }, missing);
  for (const [key, member] of Object.entries(value)) {
    const index = keyIndex(key);
    if (index === undefined || index >= count) {
      problems.push({
        code: "extra_image_key",
        message: `key "${key}" names no image of the request; ignored`,
      });
      continue;
    }
    if (values[index]!.found) {
      problems.push({ code: "extra_image_key", message: `key "${key}" repeats ${imageKey(index)}; ignored` });
      continue;
    }
    if (key !== imageKey(index)) {
      problems.push({ code: "image_key_normalised", message: `key "${key}" read as ${imageKey(index)}` });
    }
    values[index] = { found: true, value: member, cut: isCut(cutPath, [key]) };
  }
  return { values, problems };
}

/** 0-based image index from "img_3", "img3", "Image 3", "image_3" or "3"; undefined otherwise. */
function keyIndex(key: string): number | undefined {
  const match = /^\s*(?:img|image)?[\s_-]*(\d{1,6})\s*$/i.exec(key);
  if (!match) return undefined;
  const n = Number(match[1]);
  return n >= 1 ? n - 1 : undefined;
}
