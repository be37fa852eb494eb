// What a batchGenerateContent call asks for: inline requests, or a JSONL file of
// `{"key": ..., "request": {...}}` lines uploaded through the Files API.
import { invalidArgument } from "../errors.ts";

export interface BatchRequest {
  /** The JSONL line's key, echoed in the results file. */
  key: string | undefined;
  /** An inline request's metadata, echoed in its inlined response. */
  metadata: unknown;
  /** A GenerateContentRequest, checked only when the batch runs, as the API does. */
  request: unknown;
}

export type BatchInput = { kind: "inline"; requests: BatchRequest[] } | { kind: "file"; fileName: string };

export interface BatchCreate {
  displayName: string | undefined;
  input: BatchInput;
}

type Json = Record<string, unknown>;

const REQUEST = "BatchGenerateContentRequest";

export function parseBatchCreate(body: unknown): BatchCreate {
  const batch = field(asObject(body, REQUEST), "batch");
  if (batch === undefined) throw invalidArgument(`* ${REQUEST}.batch: batch is required`);
  const batchObject = asObject(batch, "batch");
  const displayName = field(batchObject, "displayName");
  if (displayName !== undefined && typeof displayName !== "string") {
    throw invalidArgument(
      `Invalid value at 'batch.display_name' (TYPE_STRING), ${JSON.stringify(displayName)}`,
    );
  }
  const config = field(batchObject, "inputConfig");
  if (config === undefined)
    throw invalidArgument(`* ${REQUEST}.batch.input_config: input_config is required`);
  const inputConfig = asObject(config, "batch.input_config");
  const fileName = field(inputConfig, "fileName");
  const requests = field(inputConfig, "requests");
  if ((fileName === undefined) === (requests === undefined)) {
    throw invalidArgument(
      `* ${REQUEST}.batch.input_config: exactly one of file_name and requests must be set`,
    );
  }
  if (fileName !== undefined) {
    if (typeof fileName !== "string" || fileName === "") {
      throw invalidArgument(
        `Invalid value at 'batch.input_config.file_name' (TYPE_STRING), ${JSON.stringify(fileName)}`,
      );
    }
    return { displayName, input: { kind: "file", fileName } };
  }
  const list = field(asObject(requests, "batch.input_config.requests"), "requests");
  if (!Array.isArray(list) || list.length === 0) {
    throw invalidArgument(`* ${REQUEST}.batch.input_config.requests.requests: requests must not be empty`);
  }
  return {
    displayName,
    input: {
      kind: "inline",
      requests: list.map((item: unknown, index) => {
        const path = `batch.input_config.requests.requests[${index}]`;
        const entry = asObject(item, path);
        const request = field(entry, "request");
        if (request === undefined) throw invalidArgument(`* ${REQUEST}.${path}.request: request is required`);
        return {
          key: undefined,
          metadata: field(entry, "metadata"),
          request: asObject(request, `${path}.request`),
        };
      }),
    },
  };
}

/** Lines of an input file, skipping blank ones; a line that is not a request makes the whole batch fail. */
export function parseJsonl(bytes: Buffer, fileName: string): BatchRequest[] {
  const requests: BatchRequest[] = [];
  bytes
    .toString("utf8")
    .split("\n")
    .forEach((line, index) => {
      if (line.trim() === "") return;
      const where = `line ${index + 1} of ${fileName}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line) as unknown;
      } catch {
        throw invalidArgument(`Invalid JSON at ${where}.`);
      }
      if (!isObject(parsed) || !isObject(parsed["request"])) {
        throw invalidArgument(`${where} is not a {"key": ..., "request": {...}} object.`);
      }
      const key = parsed["key"];
      requests.push({
        key: typeof key === "string" ? key : key === undefined ? undefined : JSON.stringify(key),
        metadata: undefined,
        request: parsed["request"],
      });
    });
  return requests;
}

/** Counts the requests of an input file without checking them (the API reports the count at once). */
export function countJsonlLines(bytes: Buffer): number {
  return bytes
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim() !== "").length;
}

/** Proto JSON accepts lowerCamelCase and snake_case names. */
function field(object: Json, camelName: string): unknown {
  if (Object.hasOwn(object, camelName)) return object[camelName];
  const snake = camelName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  return Object.hasOwn(object, snake) ? object[snake] : undefined;
}

function asObject(value: unknown, path: string): Json {
  if (!isObject(value)) {
    throw invalidArgument(`Invalid JSON payload received. Expected an object at '${path}'.`);
  }
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
