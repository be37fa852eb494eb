// Turns the fileData parts of a request into bytes: `files/<id>` and a file's full uri name a
// stored file; any other http(s) URL is fetched (when allowed). URLs are fetched up front, so the
// request parser can stay synchronous and report problems in reading order.
import type { EmulatorApiError } from "../errors.ts";
import { invalidArgument } from "../errors.ts";
import type { FetchOutcome, UrlFetchOptions } from "../fetch-url.ts";
import { fetchUrl, redactUrl } from "../fetch-url.ts";
import type { FileReference, FileResolver, ResolvedFile } from "../request.ts";
import { fileNotAccessible } from "./errors.ts";
import type { FileStore } from "./store.ts";

/** The host the real API's file uris use; accepted too, so recorded requests replay unchanged. */
const GOOGLE_API_HOST = "generativelanguage.googleapis.com";

export interface FileAccess {
  store: FileStore;
  /** The API key whose files are visible. */
  owner: string;
  /** Hosts (host:port) whose `/v1beta/files/<id>` uris are this emulator's files. */
  ownHosts: readonly string[];
  /** Undefined when URL fetching is switched off. */
  urlFetch: UrlFetchOptions | undefined;
}

export type FileTarget =
  { kind: "file"; id: string } | { kind: "url"; url: URL } | { kind: "unsupported"; shown: string };

const FILE_PATH = /^\/(?:v1|v1beta|v1alpha)\/files\/([^/:]+)$/;
const FILE_NAME = /^files\/([^/:]+)$/;

export function classifyFileUri(fileUri: string, ownHosts: readonly string[]): FileTarget {
  const named = FILE_NAME.exec(fileUri);
  if (named) return { kind: "file", id: named[1]! };
  let url: URL;
  try {
    url = new URL(fileUri);
  } catch {
    return { kind: "unsupported", shown: fileUri.length > 80 ? `${fileUri.slice(0, 80)}...` : fileUri };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { kind: "unsupported", shown: redactUrl(url) };
  const path = FILE_PATH.exec(url.pathname);
  const host = url.host.toLowerCase();
  if (path && (host === GOOGLE_API_HOST || ownHosts.some((own) => own.toLowerCase() === host))) {
    return { kind: "file", id: path[1]! };
  }
  return { kind: "url", url };
}

/** Walks the body for fileData uris (contents, or countTokens' wrapped request), fetches URLs, returns the resolver. */
export async function prepareFileResolver(body: unknown, access: FileAccess): Promise<FileResolver> {
  const fetched = new Map<string, FetchOutcome>();
  if (access.urlFetch !== undefined) {
    const urls = new Map<string, URL>();
    for (const uri of fileUris(body)) {
      const target = classifyFileUri(uri, access.ownHosts);
      if (target.kind === "url") urls.set(uri, target.url);
    }
    const options = access.urlFetch;
    await Promise.all(
      [...urls].map(async ([uri, url]) => {
        fetched.set(uri, await fetchUrl(url, options));
      }),
    );
  }
  return (reference: FileReference): ResolvedFile => {
    const target = classifyFileUri(reference.fileUri, access.ownHosts);
    switch (target.kind) {
      case "file": {
        const file = access.store.getActive(access.owner, target.id);
        return { bytes: file.bytes, mimeType: file.mimeType };
      }
      case "url": {
        const outcome = fetched.get(reference.fileUri);
        if (outcome === undefined) throw unsupportedFileUri(redactUrl(target.url), reference.field);
        if (!outcome.ok) throw fetchFailed(redactUrl(target.url), outcome.reason, reference.field);
        return { bytes: outcome.bytes, mimeType: outcome.contentType ?? "" };
      }
      case "unsupported":
        throw unsupportedFileUri(target.shown, reference.field);
    }
  };
}

/** The hosts a client may use to name this emulator: the one it called, and the one it listens on. */
export function ownHostsOf(...urls: readonly string[]): string[] {
  return [...new Set(urls.flatMap((url) => (URL.canParse(url) ? [new URL(url).host] : [])))];
}

/** For a batch's input file: only stored files qualify. */
export function fileIdOf(fileName: string, ownHosts: readonly string[]): string {
  const target = classifyFileUri(fileName, ownHosts);
  switch (target.kind) {
    case "file":
      return target.id;
    case "url":
      throw fileNotAccessible(redactUrl(target.url));
    case "unsupported":
      throw fileNotAccessible(target.shown);
  }
}

function unsupportedFileUri(shown: string, field: string): EmulatorApiError {
  return invalidArgument(`Invalid or unsupported file uri: ${shown}`, {
    field: `${field}.file_uri`,
    description:
      "Use files/<id>, a file's uri, or an http(s) URL (fetching URLs can be switched off with allowUrlFetch).",
  });
}

function fetchFailed(shown: string, reason: string, field: string): EmulatorApiError {
  return invalidArgument(`Cannot fetch the file at ${shown}: ${reason}.`, {
    field: `${field}.file_uri`,
    description: reason,
  });
}

const MAX_DEPTH = 64;

/** Every fileData.fileUri string in the body, whatever the nesting (contents, generateContentRequest). */
function fileUris(value: unknown, depth = 0): string[] {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((item: unknown) => fileUris(item, depth + 1));
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if ((key === "fileData" || key === "file_data") && typeof child === "object" && child !== null) {
      const uri =
        (child as Record<string, unknown>)["fileUri"] ?? (child as Record<string, unknown>)["file_uri"];
      if (typeof uri === "string") found.push(uri.trim());
    } else {
      found.push(...fileUris(child, depth + 1));
    }
  }
  return found;
}
