// A stored file as the API shows it (the File resource): int64 as a string, RFC 3339 times, the
// hash as base64 of the hex digest, and a uri on the host the client called.
import { timestamp } from "./clock.ts";
import type { FileSource, FileState, StoredFile } from "./store.ts";

export interface FileResource {
  name: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: string;
  createTime: string;
  updateTime: string;
  expirationTime: string;
  sha256Hash: string;
  uri: string;
  /** Only for files the API generated: they are the only ones it lets you download. */
  downloadUri?: string;
  state: FileState;
  source: FileSource;
  error?: { code: number; message: string };
}

// google.rpc.Code INVALID_ARGUMENT: Status messages inside resources carry gRPC codes, not HTTP ones.
const GRPC_INVALID_ARGUMENT = 3;

/** `baseUrl` is scheme and host, e.g. http://127.0.0.1:8787; the API's uri always names v1beta. */
export function fileResource(file: StoredFile, state: FileState, baseUrl: string): FileResource {
  return {
    name: `files/${file.id}`,
    ...(file.displayName === undefined ? {} : { displayName: file.displayName }),
    mimeType: file.mimeType,
    sizeBytes: String(file.bytes.length),
    createTime: timestamp(file.createTime),
    updateTime: timestamp(state === "PROCESSING" ? file.createTime : file.readyAt),
    expirationTime: timestamp(file.expiresAt),
    sha256Hash: Buffer.from(file.sha256Hex).toString("base64"),
    uri: fileUri(baseUrl, file.id),
    ...(file.source === "GENERATED" ? { downloadUri: downloadUri(baseUrl, file.id) } : {}),
    state,
    source: file.source,
    ...(state === "FAILED"
      ? {
          error: { code: GRPC_INVALID_ARGUMENT, message: file.problem ?? "The file could not be processed." },
        }
      : {}),
  };
}

export function fileUri(baseUrl: string, id: string): string {
  return `${baseUrl}/v1beta/files/${id}`;
}

export function downloadUri(baseUrl: string, id: string): string {
  return `${baseUrl}/download/v1beta/files/${id}:download?alt=media`;
}
