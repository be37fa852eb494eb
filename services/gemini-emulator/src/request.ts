// Turns a JSON request body into what the emulator needs, rejecting what the real API rejects with
// the same status and, where known, the same message. Pure: image bytes are checked against their
// declared type here, but decoded elsewhere.
import type { MediaResolution } from "@tessera/imaging";
import { describeUnknownBytes, parseMediaResolution, sniffImage } from "@tessera/imaging";
import type { EmulatorApiError } from "./errors.ts";
import { invalidArgument, unprocessableImage, unsupportedMimeType } from "./errors.ts";

export const SUPPORTED_IMAGE_TYPES: readonly string[] = [
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/heic",
  "image/heif",
];

const RESPONSE_MIME_TYPES: readonly string[] = [
  "text/plain",
  "application/json",
  "application/xml",
  "application/yaml",
  "text/x.enum",
];

/** Part fields that carry data; the API requires exactly one per part (a proto oneof). */
const DATA_FIELDS = [
  "text",
  "inlineData",
  "fileData",
  "functionCall",
  "functionResponse",
  "executableCode",
  "codeExecutionResult",
] as const;

export interface InlineImage {
  /** 0-based position among the request's images, in reading order. */
  index: number;
  /** Where the image sits in the request, in the API's own field-path style. */
  field: string;
  mimeType: string;
  bytes: Buffer;
  /** Per-part override (Gemini 3's `part.mediaResolution.level`). */
  mediaResolution: MediaResolution | undefined;
}

export interface GenerationSettings {
  responseMimeType: string;
  maxOutputTokens: number | undefined;
  /** The OpenAPI-subset schema (`responseSchema`) or the JSON Schema (`responseJsonSchema`). */
  schema: unknown;
  includeThoughts: boolean;
  thinkingBudget: number | undefined;
  mediaResolution: MediaResolution | undefined;
}

export interface ParsedRequest {
  /** Everything the model reads as text: system instruction first, then contents in order. */
  texts: string[];
  images: InlineImage[];
  generation: GenerationSettings;
}

export interface ParseContext {
  model: string;
  maxImages: number;
  /** Looks up `fileData` parts; without it, every file reference is refused. */
  resolveFile?: FileResolver;
}

/** A `fileData` part as written: `files/<id>`, a file's full uri, or an http(s) URL. */
export interface FileReference {
  fileUri: string;
  /** The part's path in the API's field-path style, for error messages. */
  field: string;
}

export interface ResolvedFile {
  bytes: Buffer;
  /** The file's own type, used when the part declares none. */
  mimeType: string;
}

/** Synchronous, so parsing stays pure: URLs are fetched before parsing starts. Failures throw. */
export type FileResolver = (reference: FileReference) => ResolvedFile;

type Json = Record<string, unknown>;

export function parseGenerateContentRequest(body: unknown, context: ParseContext): ParsedRequest {
  const request = asObject(body, "GenerateContentRequest");
  const texts: string[] = [];
  const systemInstruction = get(request, "systemInstruction");
  if (systemInstruction !== undefined) texts.push(...parseSystemInstruction(systemInstruction));
  const { texts: contentTexts, images } = parseContents(
    get(request, "contents"),
    "GenerateContentRequest",
    context,
  );
  texts.push(...contentTexts);
  const generation = parseGenerationConfig(get(request, "generationConfig"), context);
  return { texts, images, generation };
}

/** countTokens takes either bare `contents` or a whole `generateContentRequest`. */
export function parseCountTokensRequest(body: unknown, context: ParseContext): ParsedRequest {
  const request = asObject(body, "CountTokensRequest");
  const wrapped = get(request, "generateContentRequest");
  if (wrapped !== undefined) return parseGenerateContentRequest(wrapped, context);
  const { texts, images } = parseContents(get(request, "contents"), "CountTokensRequest", context);
  return { texts, images, generation: parseGenerationConfig(undefined, context) };
}

function parseContents(
  value: unknown,
  requestName: string,
  context: ParseContext,
): { texts: string[]; images: InlineImage[] } {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidArgument(`* ${requestName}.contents: contents is not specified`);
  }
  const texts: string[] = [];
  const images: InlineImage[] = [];
  value.forEach((content: unknown, contentIndex) => {
    const path = `contents[${contentIndex}]`;
    const object = asObject(content, path);
    const role = get(object, "role");
    if (role !== undefined && role !== "" && role !== "user" && role !== "model") {
      throw invalidArgument("Please use a valid role: user, model.");
    }
    const parts = get(object, "parts");
    if (!Array.isArray(parts) || parts.length === 0) {
      throw invalidArgument(`* ${requestName}.${path}.parts: contents.parts must not be empty.`);
    }
    parts.forEach((part: unknown, partIndex) => {
      const partPath = `${path}.parts[${partIndex}]`;
      const parsed = parsePart(part, partPath, requestName, images.length, context);
      if (parsed.kind === "text") texts.push(parsed.text);
      else {
        if (images.length + 1 > context.maxImages) {
          throw invalidArgument(
            `Too many images in the request: models/${context.model} accepts at most ${context.maxImages} ` +
              "images per request.",
          );
        }
        images.push(parsed.image);
      }
    });
  });
  return { texts, images };
}

type ParsedPart = { kind: "text"; text: string } | { kind: "image"; image: InlineImage };

function parsePart(
  value: unknown,
  path: string,
  requestName: string,
  imageIndex: number,
  context: ParseContext,
): ParsedPart {
  const part = asObject(value, path);
  const present = DATA_FIELDS.filter((name) => get(part, name) !== undefined);
  const [kind, extra] = present;
  if (kind === undefined) {
    throw invalidArgument(
      `* ${requestName}.${path}.data: required oneof field 'data' must have one initialized field`,
    );
  }
  if (extra !== undefined) {
    throw invalidArgument(
      `Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${extra}' at '${path}'.`,
    );
  }
  switch (kind) {
    case "text": {
      const text = get(part, "text");
      if (typeof text !== "string") throw invalidValue(`${path}.text`, "TYPE_STRING", text);
      return { kind: "text", text };
    }
    case "inlineData":
      return { kind: "image", image: parseInlineImage(part, path, imageIndex) };
    case "fileData":
      return { kind: "image", image: parseFileImage(part, path, requestName, imageIndex, context) };
    case "functionCall":
    case "functionResponse":
    case "executableCode":
    case "codeExecutionResult":
      // No tools here, but such parts still occupy the context: charge them as their JSON text.
      return { kind: "text", text: JSON.stringify(get(part, kind)) };
  }
}

function parseInlineImage(part: Json, path: string, imageIndex: number): InlineImage {
  const field = `${path}.inline_data`;
  const inline = asObject(get(part, "inlineData"), field);
  const declared = get(inline, "mimeType");
  const mimeType = typeof declared === "string" ? declared.trim().toLowerCase() : "";
  if (!SUPPORTED_IMAGE_TYPES.includes(mimeType)) {
    throw unsupportedMimeType(typeof declared === "string" ? declared : "", `${field}.mime_type`);
  }
  const bytes = decodeBase64(get(inline, "data"), `${field}.data`);
  checkImageBytes(bytes, mimeType, `${field}.data`);
  const resolution = get(part, "mediaResolution");
  return {
    index: imageIndex,
    field,
    mimeType,
    bytes,
    mediaResolution: parsePartResolution(resolution, path),
  };
}

/** Uploaded files and fetched URLs pass the same type and byte checks as inline data. */
function parseFileImage(
  part: Json,
  path: string,
  requestName: string,
  imageIndex: number,
  context: ParseContext,
): InlineImage {
  const field = `${path}.file_data`;
  const fileData = asObject(get(part, "fileData"), field);
  const fileUri = get(fileData, "fileUri");
  if (typeof fileUri !== "string" || fileUri.trim() === "") {
    throw invalidArgument(`* ${requestName}.${field}.file_uri: file_uri must be set`);
  }
  if (context.resolveFile === undefined) {
    throw invalidArgument(`* ${requestName}.${field}.file_uri: files are not available here`);
  }
  const file = context.resolveFile({ fileUri: fileUri.trim(), field });
  const declared = get(fileData, "mimeType");
  const named = typeof declared === "string" && declared.trim() !== "" ? declared : file.mimeType;
  const mimeType = named.trim().toLowerCase();
  if (!SUPPORTED_IMAGE_TYPES.includes(mimeType)) throw unsupportedMimeType(named, `${field}.mime_type`);
  checkImageBytes(file.bytes, mimeType, `${field}.file_uri`);
  return {
    index: imageIndex,
    field,
    mimeType,
    bytes: file.bytes,
    mediaResolution: parsePartResolution(get(part, "mediaResolution"), path),
  };
}

/** Throws the API's "Unable to process input image" when the bytes are not the declared type. */
export function checkImageBytes(bytes: Buffer, mimeType: string, field: string): void {
  const sniffed = sniffImage(bytes);
  if (!sniffed || !sameImageType(mimeType, sniffed.mime)) {
    const actual = sniffed ? `look like ${sniffed.mime}` : describeUnknownBytes(bytes);
    throw unprocessableImage(field, `declared ${mimeType}, but the bytes ${actual}`);
  }
}

/** HEIC is a HEIF profile; files are routinely labelled with either name. */
function sameImageType(declared: string, sniffed: string): boolean {
  const family = (mime: string) => (mime === "image/heic" ? "image/heif" : mime);
  return family(declared) === family(sniffed);
}

// Proto JSON accepts standard and URL-safe base64, padded or not.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64(value: unknown, field: string): Buffer {
  if (typeof value !== "string") throw invalidValue(field, "TYPE_BYTES", value);
  if (!BASE64.test(value) || value.replace(/=+$/, "").length % 4 === 1) {
    const shown = value.length > 24 ? `${value.slice(0, 24)}...` : value;
    throw invalidArgument(`Invalid value at '${field}' (TYPE_BYTES), Base64 decoding failed for "${shown}"`, {
      field,
      description: `Invalid value at '${field}' (TYPE_BYTES), Base64 decoding failed`,
    });
  }
  return Buffer.from(value, "base64");
}

function parsePartResolution(value: unknown, path: string): MediaResolution | undefined {
  if (value === undefined) return undefined;
  const level = get(asObject(value, `${path}.media_resolution`), "level");
  return level === undefined ? undefined : parseResolution(level, `${path}.media_resolution.level`);
}

function parseResolution(value: unknown, field: string): MediaResolution | undefined {
  if (value === "MEDIA_RESOLUTION_UNSPECIFIED") return undefined;
  // The wire only knows the long enum names; the short ones are Tessera's.
  if (typeof value === "string" && value.startsWith("MEDIA_RESOLUTION_")) {
    const parsed = parseMediaResolution(value);
    if (parsed !== undefined) return parsed;
  }
  throw invalidValue(field, "TYPE_ENUM", value);
}

function parseSystemInstruction(value: unknown): string[] {
  const instruction = asObject(value, "system_instruction");
  const parts = get(instruction, "parts");
  if (!Array.isArray(parts)) return [];
  return parts.map((part: unknown, index) => {
    const text = get(asObject(part, `system_instruction.parts[${index}]`), "text");
    if (typeof text !== "string") {
      throw invalidArgument(
        `* GenerateContentRequest.system_instruction.parts[${index}]: only text parts are supported ` +
          "in a system instruction",
      );
    }
    return text;
  });
}

function parseGenerationConfig(value: unknown, context: ParseContext): GenerationSettings {
  const settings: GenerationSettings = {
    responseMimeType: "text/plain",
    maxOutputTokens: undefined,
    schema: undefined,
    includeThoughts: false,
    thinkingBudget: undefined,
    mediaResolution: undefined,
  };
  if (value === undefined) return settings;
  const config = asObject(value, "generation_config");

  const mime = get(config, "responseMimeType");
  if (mime !== undefined) {
    if (typeof mime !== "string" || !RESPONSE_MIME_TYPES.includes(mime)) {
      throw invalidArgument(
        "* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are " +
          "`text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.",
      );
    }
    settings.responseMimeType = mime;
  }

  const maxOutputTokens = get(config, "maxOutputTokens");
  if (maxOutputTokens !== undefined) {
    if (!Number.isInteger(maxOutputTokens) || (maxOutputTokens as number) < 1) {
      throw invalidValue("generation_config.max_output_tokens", "TYPE_INT32", maxOutputTokens);
    }
    settings.maxOutputTokens = maxOutputTokens as number;
  }

  const schema = get(config, "responseSchema") ?? get(config, "responseJsonSchema");
  if (schema !== undefined) {
    if (settings.responseMimeType !== "application/json" && settings.responseMimeType !== "text/x.enum") {
      throw invalidArgument(
        "* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be " +
          "`application/json` or `text/x.enum` when a response schema is set.",
      );
    }
    settings.schema = schema;
  }

  const thinking = get(config, "thinkingConfig");
  if (thinking !== undefined) {
    const thinkingConfig = asObject(thinking, "generation_config.thinking_config");
    const budget = get(thinkingConfig, "thinkingBudget");
    if (budget !== undefined) {
      if (!Number.isInteger(budget)) {
        throw invalidValue("generation_config.thinking_config.thinking_budget", "TYPE_INT32", budget);
      }
      // 2.5 Pro cannot switch thinking off, and says so.
      if (budget === 0 && context.model.startsWith("gemini-2.5-pro")) {
        throw invalidArgument("Budget 0 is invalid. This model only works in thinking mode.");
      }
      settings.thinkingBudget = budget as number;
    }
    settings.includeThoughts = get(thinkingConfig, "includeThoughts") === true;
  }

  const resolution = get(config, "mediaResolution");
  if (resolution !== undefined) {
    settings.mediaResolution = parseResolution(resolution, "generation_config.media_resolution");
  }
  return settings;
}

/** Proto JSON accepts both lowerCamelCase and the original snake_case field names. */
function get(object: Json, camelName: string): unknown {
  if (Object.hasOwn(object, camelName)) return object[camelName];
  const snake = camelName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  return Object.hasOwn(object, snake) ? object[snake] : undefined;
}

function asObject(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument(
      `Invalid JSON payload received. Expected an object at '${path}', got ${describeJson(value)}.`,
    );
  }
  return value as Json;
}

function invalidValue(field: string, type: string, value: unknown): EmulatorApiError {
  return invalidArgument(`Invalid value at '${field}' (${type}), ${describeJson(value)}`, {
    field,
    description: `Invalid value at '${field}' (${type}), ${describeJson(value)}`,
  });
}

function describeJson(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
