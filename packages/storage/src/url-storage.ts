import { readFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import type { StorageError } from "./errors.ts";
import {
  AccessDeniedError,
  LocationNotFoundError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PreconditionFailedError,
  UrlFetchError,
  isPermanentStorageError,
} from "./errors.ts";
import { formatLocation, type UrlsLocation } from "./location.ts";
import type { GetOptions, ObjectInfo, Storage } from "./types.ts";
import { guardedGet, type UrlFetchOptions } from "./url-fetch.ts";
import { parseUrlList, redactUrl, type UrlEntry } from "./url-list.ts";

export type UrlSourceOptions = Partial<UrlFetchOptions> & {
  /** Bytes of the header probe (the first ranged GET of each URL while listing). */
  headerBytes?: number;
  /** URLs probed at once while listing. */
  probeConcurrency?: number;
};

export const URL_DEFAULTS = {
  allowPrivate: false,
  maxBytes: 50 * 1024 * 1024,
  timeoutMs: 30_000,
  maxRedirects: 5,
  headerBytes: 64 * 1024,
  probeConcurrency: 8,
} as const;

/** What listing learnt of a URL: its first bytes (for the header probe) or why it failed. */
type Probed = { head: Buffer; size: number } | { error: Error };

/**
 * The probe results kept for getRange (at most headerBytes each); a bound so a huge list cannot
 * hold every header. An evicted probe only costs getRange a ranged GET of its own.
 */
const MAX_PROBES_KEPT = 512;

/**
 * ETag of a URL's answer: its ETag header without quotes (a weak one keeps its "W/"), else
 * `lm:<Last-Modified as epoch ms>:<size>`, else `size:<size>`. The worker refetches and compares,
 * so an object that changed in between fails as source_changed instead of being annotated.
 */
export function urlEtag(headers: IncomingHttpHeaders, size: number): string {
  const etag = headers.etag?.trim();
  if (etag !== undefined && etag !== "") return etag.replace(/^(W\/)?"(.*)"$/, "$1$2");
  const modified = headers["last-modified"] === undefined ? NaN : Date.parse(headers["last-modified"]);
  return Number.isFinite(modified) ? `lm:${modified}:${size}` : `size:${size}`;
}

function isStrongEtag(etag: string): boolean {
  return !etag.startsWith("W/") && !etag.startsWith("lm:") && !etag.startsWith("size:");
}

/**
 * A read-only source whose objects are the http(s) URLs listed in a local text file
 * (`urls+file:///abs/list.txt`). Listing probes every URL's first bytes (a ranged GET, or the
 * start of a 200 cut off), which also gives its size and ETag; get() fetches it whole. Every
 * fetch goes through guardedGet: SSRF checks, pinned addresses, size and time caps.
 */
export class UrlListStorage implements Storage {
  readonly location: UrlsLocation;
  readonly #opts: UrlFetchOptions & { headerBytes: number; probeConcurrency: number };
  #entries: Promise<Map<string, UrlEntry>> | undefined;
  readonly #probes = new Map<string, Probed>();

  constructor(location: UrlsLocation, options: UrlSourceOptions = {}) {
    this.location = location;
    this.#opts = { ...URL_DEFAULTS, ...options };
  }

  describe(key?: string): string {
    if (key === undefined || key === "") return formatLocation(this.location);
    return `${formatLocation(this.location)}#${key}`;
  }

  async #load(): Promise<Map<string, UrlEntry>> {
    this.#entries ??= (async () => {
      const where = formatLocation(this.location);
      let text: string;
      try {
        text = await readFile(this.location.path, "utf8");
      } catch (err) {
        this.#entries = undefined;
        throw new LocationNotFoundError(where, "cannot read the URL list", err);
      }
      return new Map(parseUrlList(text, where).map((entry) => [entry.key, entry]));
    })();
    return this.#entries;
  }

  async #entry(key: string): Promise<UrlEntry> {
    let entry = (await this.#load()).get(key);
    if (entry === undefined) {
      // A long-lived worker may hold an older copy of a list edited for a later run.
      this.#entries = undefined;
      entry = (await this.#load()).get(key);
    }
    if (entry === undefined) throw new ObjectNotFoundError(this.describe(key));
    return entry;
  }

  async #probe(entry: UrlEntry): Promise<Probed & { info?: ObjectInfo }> {
    try {
      const end = this.#opts.headerBytes - 1;
      const res = await guardedGet(entry.url, this.#opts, {
        range: [0, end],
        truncateAt: this.#opts.headerBytes,
      });
      const range = /\/(\d+)\s*$/.exec(res.headers["content-range"] ?? "")?.[1];
      const length = Number(res.headers["content-length"]);
      let size: number;
      let head = res.body;
      if (res.status === 206 && range !== undefined) size = Number(range);
      else if (res.status !== 206 && Number.isFinite(length) && res.headers["content-length"] !== undefined)
        size = length;
      else if (!res.truncated && res.status !== 206) size = res.body.length;
      else {
        // No size announced and more bytes than the probe: read it whole (within maxBytes).
        const whole = (await guardedGet(entry.url, this.#opts)).body;
        size = whole.length;
        // A copy: a view would keep the whole body alive while the probe is cached.
        head = Buffer.from(whole.subarray(0, this.#opts.headerBytes));
      }
      if (size > this.#opts.maxBytes) {
        throw new ObjectTooLargeError(redactUrl(entry.url), size, this.#opts.maxBytes);
      }
      const info: ObjectInfo = { key: entry.key, size, etag: urlEtag(res.headers, size) };
      const modified = res.headers["last-modified"];
      if (modified !== undefined && Number.isFinite(Date.parse(modified)))
        info.lastModified = new Date(modified);
      if (res.headers["content-type"] !== undefined) info.contentType = res.headers["content-type"];
      return { head, size, info };
    } catch (err) {
      return { error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  #keep(key: string, probed: Probed): void {
    if (this.#probes.size >= MAX_PROBES_KEPT) {
      const oldest = this.#probes.keys().next().value;
      if (oldest !== undefined) this.#probes.delete(oldest);
    }
    this.#probes.set(key, probed);
  }

  /**
   * Lists every URL in key order. A URL that cannot be probed (refused, 404, too big, down) is
   * still listed, with size 1 and an empty ETag, and its error is thrown by the first getRange:
   * the scan then records that image as failed with the reason, and the run goes on.
   */
  async *list(opts: { prefix?: string; signal?: AbortSignal } = {}): AsyncIterable<ObjectInfo> {
    const entries = [...(await this.#load()).values()].filter(
      (entry) => opts.prefix === undefined || entry.key.startsWith(opts.prefix),
    );
    const window: Promise<Probed & { info?: ObjectInfo }>[] = [];
    let next = 0;
    const fill = () => {
      while (window.length < this.#opts.probeConcurrency && next < entries.length) {
        window.push(this.#probe(entries[next++]!));
      }
    };
    fill();
    for (let i = 0; i < entries.length; i++) {
      opts.signal?.throwIfAborted();
      const probed = await window.shift()!;
      fill();
      const key = entries[i]!.key;
      this.#keep(key, probed);
      yield probed.info ?? { key, size: 1, etag: "" };
    }
  }

  /**
   * Undefined for a URL that answers 404 or fails permanently (refused, too big, other 4xx): as
   * for a deleted object, the failure stands and `retry --failed` passes it by. Transient
   * failures throw.
   */
  async head(key: string): Promise<ObjectInfo | undefined> {
    const probed = await this.#probe(await this.#entry(key));
    if ("error" in probed) {
      if (isPermanentStorageError(probed.error)) return undefined;
      throw probed.error;
    }
    this.#keep(key, probed);
    return probed.info;
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    const probed = this.#probes.get(key);
    if (probed !== undefined && "error" in probed) throw probed.error;
    if (probed !== undefined) {
      const end = Math.min(endInclusive + 1, probed.size);
      if (end <= probed.head.length || probed.head.length >= probed.size)
        return probed.head.subarray(start, end);
    }
    if (probed !== undefined && start >= probed.size) return Buffer.alloc(0);
    const entry = await this.#entry(key);
    let res;
    try {
      res = await guardedGet(entry.url, this.#opts, {
        range: [start, endInclusive],
        truncateAt: endInclusive + 1,
      });
    } catch (err) {
      // 416: the range starts past the end, which the Storage contract answers with no bytes.
      if (err instanceof UrlFetchError && err.status === 416) return Buffer.alloc(0);
      throw err;
    }
    // A server that ignores Range answers 200 from byte 0: cut out the part asked for.
    return res.status === 206
      ? res.body.subarray(0, endInclusive - start + 1)
      : res.body.subarray(start, endInclusive + 1);
  }

  async get(key: string, opts: GetOptions = {}): Promise<Buffer> {
    const entry = await this.#entry(key);
    this.#probes.delete(key);
    const maxBytes = Math.min(opts.maxBytes ?? this.#opts.maxBytes, this.#opts.maxBytes);
    const ifMatch = opts.ifMatch?.replace(/^"(.*)"$/, "$1");
    const res = await guardedGet(
      entry.url,
      { ...this.#opts, maxBytes },
      ifMatch !== undefined && ifMatch !== "" && isStrongEtag(ifMatch) ? { ifMatch } : {},
    );
    if (ifMatch !== undefined && urlEtag(res.headers, res.body.length) !== ifMatch) {
      // Servers may ignore If-Match on GET: the ETag of what came back is the real test.
      throw new PreconditionFailedError(this.describe(key), "ETag differs");
    }
    return res.body;
  }

  put(): Promise<{ etag: string }> {
    return Promise.reject(this.#readOnly());
  }

  putStream(): Promise<{ etag: string }> {
    return Promise.reject(this.#readOnly());
  }

  delete(): Promise<void> {
    return Promise.reject(this.#readOnly());
  }

  /** Undefined: handing Gemini the URL would skip the SSRF guard and could leak a signed query. */
  presignGet(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  async checkAccess(opts: { write?: boolean } = {}): Promise<void> {
    if (opts.write === true) throw this.#readOnly();
    await this.#load();
  }

  #readOnly(): StorageError {
    return new AccessDeniedError(formatLocation(this.location), "a URL list is a read-only source");
  }
}
