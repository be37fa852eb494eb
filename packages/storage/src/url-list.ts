import { createHash } from "node:crypto";
import { StorageUriError } from "./errors.ts";
import { compareKeys } from "./keys.ts";

/** One image of a URL list: its key (safe, without the query) and the URL it is fetched from. */
export interface UrlEntry {
  key: string;
  /** The full URL, query included: a signed URL's query is a credential, never log it. */
  url: URL;
}

const MAX_SEGMENT = 120;
const MAX_KEY = 600;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** Scheme, host and path, plus a hash standing in for the query: what messages may show. */
export function redactUrl(url: URL): string {
  const query = url.search === "" ? "" : `?sha256=${shortHash(url.search)}`;
  return `${url.protocol}//${url.host}${url.pathname}${query}`;
}

function safeSegment(raw: string): string {
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    text = raw;
  }
  const cleaned = text.replace(/[^A-Za-z0-9._~-]/g, "_");
  // "." and ".." would climb out of the output prefix; a dot-only name is renamed, not dropped.
  const safe = /^\.+$/.test(cleaned) ? cleaned.replace(/\./g, "_") : cleaned;
  return safe.length > MAX_SEGMENT ? `${safe.slice(0, MAX_SEGMENT)}~${shortHash(safe)}` : safe;
}

/**
 * The key of a URL: `host[_port]/path/segments`, every segment percent-decoded and reduced to
 * [A-Za-z0-9._~-] ("_" for anything else), so it is a valid S3 key and file path that stays
 * under the output prefix. A query never appears: it is replaced by `~q<sha256 of the query>`
 * before the file extension, so two signed URLs of the same path stay apart without leaking.
 * The scheme is not part of the key (http and https of one path collide and are told apart by
 * the list, see parseUrlList).
 */
export function urlKey(url: URL): string {
  const host = safeSegment(url.hostname.replace(/^\[|\]$/g, "")) + (url.port === "" ? "" : `_${url.port}`);
  const segments = url.pathname
    .split("/")
    .filter((s) => s !== "")
    .map(safeSegment);
  if (segments.length === 0) segments.push("index");
  if (url.search !== "") {
    const last = segments.pop() ?? "index";
    const dot = last.lastIndexOf(".");
    const tag = `~q${shortHash(url.search)}`;
    segments.push(dot > 0 ? `${last.slice(0, dot)}${tag}${last.slice(dot)}` : `${last}${tag}`);
  }
  const key = [host, ...segments].join("/");
  return key.length > MAX_KEY ? `${key.slice(0, MAX_KEY)}~${shortHash(key)}` : key;
}

/**
 * Parses a URL list: one http(s) URL per line; blank lines and lines starting with "#" are
 * ignored; a repeated URL counts once. Any other line is an error naming its line number (the
 * line itself is not echoed: it may hold a signed query). Two URLs whose keys collide (http vs
 * https, or names that only differ in characters replaced by "_") keep the first key and give the
 * later one a `~u<sha256 of the URL>` suffix. Entries come back in key order, as list() needs.
 */
export function parseUrlList(text: string, where: string): UrlEntry[] {
  const byKey = new Map<string, UrlEntry>();
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = `${where} line ${index + 1}`;
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      throw new StorageUriError(at, "not a URL (expected one http:// or https:// URL per line)");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new StorageUriError(at, `unsupported scheme "${url.protocol}" (only http: and https:)`);
    }
    if (url.username !== "" || url.password !== "") {
      throw new StorageUriError(at, "credentials in the URL (user:password@) are not supported");
    }
    url.hash = "";
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    let key = urlKey(url);
    if (byKey.has(key)) key = `${key}~u${shortHash(url.href)}`;
    byKey.set(key, { key, url });
  }
  return [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
}
