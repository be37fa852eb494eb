// Google's resumable upload protocol as the Files API speaks it: `start` opens a session and
// answers with its URL; chunks follow with `upload` (the last with `upload, finalize`) at exact
// byte offsets; `query` tells how much arrived; `cancel` drops the session.
import { invalidArgument } from "../errors.ts";
import {
  badUploadRequest,
  fileTooLarge,
  uploadOffsetMismatch,
  uploadSessionNotFound,
  uploadSizeMismatch,
} from "./errors.ts";
import type { Reply } from "./http.ts";
import { randomId } from "./ids.ts";
import type { FileResource } from "./resource.ts";
import { fileResource } from "./resource.ts";
import type { FileStore } from "./store.ts";
import { imageProblem } from "./validate.ts";

/** The chunk size the API advertises, and the SDKs use. */
export const UPLOAD_CHUNK_GRANULARITY = 8 * 1024 * 1024;

interface UploadSession {
  id: string;
  owner: string;
  startedAt: number;
  /** X-Goog-Upload-Header-Content-Length (or the body's sizeBytes), when the client gave one. */
  declaredSize: number | undefined;
  mimeType: string;
  displayName: string | undefined;
  fileId: string | undefined;
  chunks: Buffer[];
  received: number;
}

export interface StartRequest {
  owner: string;
  apiVersion: string;
  baseUrl: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body: `{"file": {...}}`, or `{}`. */
  body: unknown;
}

export interface ChunkRequest {
  uploadId: string;
  baseUrl: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  bytes: Buffer;
}

export class UploadSessions {
  readonly #store: FileStore;
  readonly #sessions = new Map<string, UploadSession>();

  constructor(store: FileStore) {
    this.#store = store;
  }

  start(request: StartRequest): Reply {
    const protocol = header(request.headers, "x-goog-upload-protocol")?.toLowerCase();
    if (protocol !== "resumable") {
      throw badUploadRequest(
        "the emulator speaks the resumable protocol only (X-Goog-Upload-Protocol: resumable), as the SDKs do",
      );
    }
    if (!commandsOf(request.headers).has("start")) {
      throw badUploadRequest("a new upload needs X-Goog-Upload-Command: start");
    }
    const file = fileMetadata(request.body);
    const declaredSize = parseSize(
      header(request.headers, "x-goog-upload-header-content-length") ?? file.sizeBytes,
    );
    const mimeType =
      header(request.headers, "x-goog-upload-header-content-type") ??
      file.mimeType ??
      "application/octet-stream";
    const fileId = file.name?.replace(/^files\//, "");
    if (fileId !== undefined) this.#store.checkId(fileId);
    if (declaredSize !== undefined) this.#store.checkRoom(request.owner, declaredSize);

    this.#dropAbandoned();
    const id = randomId(40);
    this.#sessions.set(id, {
      id,
      owner: request.owner,
      startedAt: this.#store.now(),
      declaredSize,
      mimeType,
      displayName: file.displayName,
      fileId,
      chunks: [],
      received: 0,
    });
    const uploadUrl = `${request.baseUrl}/upload/${request.apiVersion}/files?upload_id=${id}&upload_protocol=resumable`;
    return {
      headers: {
        "x-goog-upload-url": uploadUrl,
        "x-goog-upload-control-url": uploadUrl,
        "x-goog-upload-status": "active",
        "x-goog-upload-chunk-granularity": String(UPLOAD_CHUNK_GRANULARITY),
      },
    };
  }

  async chunk(request: ChunkRequest): Promise<Reply> {
    this.#dropAbandoned();
    const session = this.#sessions.get(request.uploadId);
    if (session === undefined) throw uploadSessionNotFound();
    const commands = commandsOf(request.headers);

    if (commands.has("cancel")) {
      this.#sessions.delete(session.id);
      return { headers: { "x-goog-upload-status": "cancelled" } };
    }
    if (commands.has("query")) return active(session);
    if (!commands.has("upload") && !commands.has("finalize")) {
      throw badUploadRequest(
        `unknown X-Goog-Upload-Command "${header(request.headers, "x-goog-upload-command") ?? ""}"`,
      );
    }
    if (commands.has("upload")) this.#append(session, request);
    else if (request.bytes.length > 0) throw badUploadRequest("a finalize without upload carries no bytes");

    if (!commands.has("finalize")) return active(session);
    return {
      headers: { "x-goog-upload-status": "final" },
      body: await this.#finalize(session, request.baseUrl),
    };
  }

  /** Unfinished uploads hold their chunks in memory: they last as long as a file would. */
  #dropAbandoned(): void {
    const oldest = this.#store.now() - this.#store.limits.ttlMs;
    for (const [id, session] of this.#sessions) if (session.startedAt <= oldest) this.#sessions.delete(id);
  }

  #append(session: UploadSession, request: ChunkRequest): void {
    const offset = header(request.headers, "x-goog-upload-offset");
    if (offset === undefined) throw badUploadRequest("an upload needs X-Goog-Upload-Offset");
    if (!/^\d+$/.test(offset) || Number(offset) !== session.received) {
      throw uploadOffsetMismatch(offset, session.received);
    }
    const limit = this.#store.limits.maxFileBytes;
    if (session.received + request.bytes.length > limit) {
      this.#sessions.delete(session.id);
      throw fileTooLarge(limit);
    }
    session.chunks.push(request.bytes);
    session.received += request.bytes.length;
  }

  async #finalize(session: UploadSession, baseUrl: string): Promise<{ file: FileResource }> {
    // Whatever happens next, this session is over: a failed finalize cannot be retried.
    this.#sessions.delete(session.id);
    if (session.declaredSize !== undefined && session.declaredSize !== session.received) {
      throw uploadSizeMismatch(session.declaredSize, session.received);
    }
    const bytes = Buffer.concat(session.chunks, session.received);
    const stored = this.#store.add(session.owner, {
      id: session.fileId,
      displayName: session.displayName,
      mimeType: session.mimeType,
      bytes,
      source: "UPLOADED",
      problem: await imageProblem(session.mimeType, bytes),
    });
    return { file: fileResource(stored, this.#store.stateOf(stored), baseUrl) };
  }
}

function active(session: UploadSession): Reply {
  return {
    headers: { "x-goog-upload-status": "active", "x-goog-upload-size-received": String(session.received) },
  };
}

function header(headers: StartRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === "" ? undefined : first.trim();
}

/** "upload, finalize" -> {upload, finalize}. */
function commandsOf(headers: StartRequest["headers"]): Set<string> {
  const text = header(headers, "x-goog-upload-command") ?? "";
  return new Set(
    text
      .split(",")
      .map((command) => command.trim().toLowerCase())
      .filter((command) => command !== ""),
  );
}

interface FileMetadata {
  name: string | undefined;
  displayName: string | undefined;
  mimeType: string | undefined;
  sizeBytes: string | undefined;
}

/** `{"file": {...}}` in camelCase (the SDKs) or snake_case (curl examples in Google's docs). */
function fileMetadata(body: unknown): FileMetadata {
  const file = isObject(body) ? (body["file"] ?? {}) : {};
  if (!isObject(file)) throw invalidArgument("Invalid JSON payload received. Expected an object at 'file'.");
  const text = (camel: string, snake: string): string | undefined => {
    const value = file[camel] ?? file[snake];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" && typeof value !== "number") {
      throw invalidArgument(`Invalid value at 'file.${snake}': ${JSON.stringify(value)}`);
    }
    return String(value);
  };
  return {
    name: text("name", "name"),
    displayName: text("displayName", "display_name"),
    mimeType: text("mimeType", "mime_type"),
    sizeBytes: text("sizeBytes", "size_bytes"),
  };
}

function parseSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw badUploadRequest(`the declared size "${value}" is not a byte count`);
  return Number(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
