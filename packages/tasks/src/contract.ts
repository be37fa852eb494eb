import type { ImageTransform } from "@tessera/imaging";
import type { z } from "zod";
import { canonicalJson, sha256Hex } from "./config-hash.ts";
import type { JsonSchema } from "./json-schema.ts";
import type { ParseCounters, WarningCode } from "./warnings.ts";

export const TASK_NAMES = ["caption", "classify", "vqa", "detect", "segment", "compare", "custom"] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/**
 * How a task uses several images in one request:
 * - "no": one image per request;
 * - "batch": several independent images, each labelled in the prompt and keyed in the answer,
 *   which is split back into one outcome per image;
 * - "set": one answer about several images together (one outcome for the set).
 */
export type MultiImageMode = "no" | "batch" | "set";

/** One part of the user turn: an image (by its index in the request) or text. */
export type RequestPart = { kind: "image"; index: number } | { kind: "text"; text: string };

/** The members of the SDK's GenerateContentConfig a task sets; anything else is the caller's. */
export interface TaskGenerationConfig {
  responseMimeType?: "application/json";
  responseJsonSchema?: JsonSchema;
  thinkingConfig?: { thinkingBudget: number };
  temperature?: number;
}

export interface TaskRequest {
  /** The instruction, also the last text part of `parts`. */
  prompt: string;
  systemInstruction?: string;
  /**
   * The user turn in order. Images always come before the instruction, as the guide advises;
   * with several images each is preceded by a text part naming its key ("Image img_2:").
   */
  parts: RequestPart[];
  generationConfig: TaskGenerationConfig;
}

export interface BuildContext {
  /** Images in this request: 1 for "no" tasks, 1..n for "batch", 2..n for "set". */
  imageCount: number;
  /** The model asked for (some settings, like turning thinking off, depend on it). */
  model: string;
}

/** The answer text (reasoning parts left out) and the candidate's finishReason. */
export interface ModelAnswer {
  text: string;
  finishReason?: string | undefined;
}

export interface ParseImage {
  /** The caller's name for the image (its source key): what "set" results refer to. */
  label: string;
  /** How the sent image relates to the original, to put coordinates in original display pixels. */
  transform: ImageTransform;
}

export interface ParseContext {
  /** The images of the request, in the order they were sent. */
  images: readonly ParseImage[];
}

export type ImageOutcome<R> =
  | {
      ok: true;
      result: R;
      /** Some of the answer was lost (cut off at maxOutputTokens): what is here is sound. */
      partial: boolean;
      /** "code: message" strings for the annotation, answer-level problems included. */
      warnings: string[];
      /** The same problems counted by code, to add to the run's counters. */
      counters: ParseCounters;
    }
  | {
      ok: false;
      /** Why no result: the code of the deciding problem, e.g. "not_json" or "missing_image_key". */
      code: WarningCode;
      error: string;
      warnings: string[];
      counters: ParseCounters;
    };

export interface ParseOutcome<R> {
  /** One entry per image of the request ("no", "batch"), or a single entry for a "set". */
  perImage: ImageOutcome<R>[];
  /**
   * Problems of the answer as a whole (fences, prose, truncation); already included in every
   * entry of perImage, listed here for logs.
   */
  warnings: string[];
  /**
   * Every problem of this answer counted once by code (answer-level ones once, not once per
   * image): what to add to the run's counters.
   */
  counters: ParseCounters;
}

export interface TaskSpec<O, R> {
  readonly name: TaskName;
  /** Bumped whenever prompt wording, schema or parsing changes meaning; part of the config hash. */
  readonly version: number;
  readonly multiImage: MultiImageMode;
  /** Accepts the options as given (flags, JSON) and fills in defaults. */
  readonly optionsSchema: z.ZodType<O>;
  /** The `result` member of an annotation of this task. */
  readonly resultSchema: z.ZodType<R>;
  build(options: O, context: BuildContext): TaskRequest;
  parse(answer: ModelAnswer, options: O, context: ParseContext): Promise<ParseOutcome<R>>;
}

export interface TaskDefinition<O, R> extends TaskSpec<O, R> {
  /**
   * sha256 (hex) over the task, its version, the model, the options and the request they build
   * (prompt, system instruction, generation config with the response schema): any change to
   * any of them gives a different hash, so annotations made under different settings can be told
   * apart and never mixed up.
   */
  configHash(options: O, model: string): string;
}

export function defineTask<O, R>(spec: TaskSpec<O, R>): TaskDefinition<O, R> {
  return {
    ...spec,
    build: spec.build.bind(spec),
    parse: spec.parse.bind(spec),
    configHash(options: O, model: string): string {
      const imageCount = spec.multiImage === "set" ? 2 : 1;
      const request = spec.build(options, { imageCount, model });
      return sha256Hex(canonicalJson({ task: spec.name, version: spec.version, model, options, request }));
    },
  };
}
