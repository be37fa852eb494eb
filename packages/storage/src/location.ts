import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { StorageUriError } from "./errors.ts";

/**
 * A parsed storage root. An S3 `prefix` is stored without leading or trailing "/" ("" for the
 * whole bucket) and always means a folder: "photos" and "photos/" both list "photos/...", never
 * "photos-old/...". A file `path` is absolute and normalised, without a trailing "/".
 */
export type Location = S3Location | FileLocation | UrlsLocation;
export interface S3Location {
  scheme: "s3";
  bucket: string;
  prefix: string;
}
export interface FileLocation {
  scheme: "file";
  path: string;
}

/** A read-only source: the http(s) URLs listed, one per line, in a local text file. */
export interface UrlsLocation {
  scheme: "urls";
  /** The list file: absolute and normalised. */
  path: string;
}

// Lenient on purpose (RGW and legacy AWS buckets allow upper case and underscores), strict enough
// that the name is a single path segment and a host label.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export function parseLocation(uri: string): Location {
  if (uri.startsWith("s3://")) return parseS3(uri);
  if (uri.startsWith("file://")) return parseFile(uri);
  if (uri.startsWith("urls+file://"))
    return { scheme: "urls", path: parseFile(uri.slice("urls+".length)).path };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
  if (scheme !== undefined && scheme !== "s3" && scheme !== "file") {
    throw new StorageUriError(
      uri,
      `unsupported scheme "${scheme}:" (use s3://bucket/prefix, file:///abs/dir or urls+file:///abs/list.txt)`,
    );
  }
  throw new StorageUriError(uri, "expected s3://bucket/prefix or file:///absolute/dir");
}

function parseS3(uri: string): S3Location {
  // Not `new URL`: S3 keys are raw bytes, not percent-encoded, and may contain "#", "?" or "%".
  const rest = uri.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket === "") throw new StorageUriError(uri, "the bucket name is empty");
  if (!BUCKET.test(bucket)) throw new StorageUriError(uri, `"${bucket}" is not a valid bucket name`);
  const prefix = slash === -1 ? "" : trimSlashes(rest.slice(slash + 1));
  const bad = prefix.split("/").find((segment) => segment === "." || segment === "..");
  if (bad !== undefined) throw new StorageUriError(uri, `the prefix must not contain a "${bad}" segment`);
  if (prefix.includes("\0")) throw new StorageUriError(uri, "the prefix contains a NUL character");
  return { scheme: "s3", bucket, prefix };
}

function parseFile(uri: string): FileLocation {
  // "file://photos/x" parses with host "photos": almost always a relative path typed with two
  // slashes, so say that rather than Node's generic host complaint.
  const authority = /^file:\/\/([^/]*)/.exec(uri)?.[1] ?? "";
  if (authority !== "" && authority !== "localhost") {
    throw new StorageUriError(uri, "file paths must be absolute: write file:///abs/dir (three slashes)");
  }
  let filePath: string;
  try {
    filePath = fileURLToPath(uri);
  } catch (error) {
    throw new StorageUriError(uri, error instanceof Error ? error.message : String(error));
  }
  if (!path.isAbsolute(filePath)) throw new StorageUriError(uri, "file paths must be absolute");
  const normal = path.normalize(filePath);
  return { scheme: "file", path: normal.length > 1 ? normal.replace(/\/+$/, "") : normal };
}

/** The URI of the location, or of `key` under it; parseLocation(formatLocation(l)) equals l. */
export function formatLocation(location: Location, key = ""): string {
  switch (location.scheme) {
    case "s3":
      return `s3://${location.bucket}/${joinKey(location.prefix, key)}`;
    case "file": {
      const full = key === "" ? location.path : path.posix.join(location.path, key);
      // pathToFileURL escapes "%", "#", "?" and spaces, so the string parses back to the same path.
      const href = pathToFileURL(full).href;
      return key.endsWith("/") && !href.endsWith("/") ? `${href}/` : href;
    }
    case "urls":
      return `urls+${pathToFileURL(location.path).href}${key === "" ? "" : `#${key}`}`;
  }
}

/**
 * Joins key parts with exactly one "/" between them. Empty parts are skipped, slashes at the
 * joints are collapsed, a leading "/" is dropped and a trailing "/" on the last part is kept
 * (it marks a folder prefix: joinKey("runs", id, "") is "runs/<id>", joinKey("runs/") is "runs/").
 */
export function joinKey(...parts: string[]): string {
  const kept = parts.filter((part) => part.replace(/\/+/g, "") !== "");
  const last = kept.length - 1;
  return kept
    .map((part, i) => (i === last ? part.replace(/^\/+/, "").replace(/\/+$/, "/") : trimSlashes(part)))
    .join("/");
}

/**
 * When `other` is `location` itself or lies inside it, the key prefix that reaches it from
 * `location`'s root: "" for the same place, else a folder prefix ending in "/" ("out/run-1/"), so
 * a scan can skip its own output without also skipping "outline.jpg". Otherwise undefined.
 * Two S3 locations only compare by bucket: the endpoint is not part of a Location.
 */
export function isUnder(location: Location, other: Location): string | undefined {
  if (location.scheme === "s3" && other.scheme === "s3") {
    if (location.bucket !== other.bucket) return undefined;
    return relativeFolder(location.prefix, other.prefix);
  }
  if (location.scheme === "file" && other.scheme === "file") {
    const base = location.path === "/" ? "" : location.path.slice(1);
    return relativeFolder(base, other.path === "/" ? "" : other.path.slice(1));
  }
  return undefined;
}

function relativeFolder(base: string, inner: string): string | undefined {
  if (base === inner) return "";
  if (base === "") return `${inner}/`;
  return inner.startsWith(`${base}/`) ? `${inner.slice(base.length + 1)}/` : undefined;
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+/, "").replace(/\/+$/, "");
}
