import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, FileState, type File as GeminiFile, type GoogleGenAI } from "@google/genai";
import type { Redis } from "ioredis";
import { TesseraError, errorMessage, type Logger } from "@tessera/core";
import { classifyGeminiError, isStorageQuotaError } from "./errors.ts";

const GIB = 1024 * 1024 * 1024;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const FILES_CACHE_DEFAULTS = {
  // The API's 20 GB per project (21474836480 bytes) less room for what Tessera does not count:
  // batch result files and uploads by other tools on the same project.
  quotaBytes: 19 * GIB,
  // Long enough for a request that picks the file up now to be answered before it expires.
  reuseMarginMs: HOUR,
  // The API's file lifetime, for an answer that leaves out expirationTime.
  fileTtlMs: 48 * HOUR,
  activeTimeoutMs: MINUTE,
  // Renewed while the upload runs, so it only lapses when its holder died.
  lockTtlMs: 30_000,
  waitTimeoutMs: 10 * MINUTE,
  pollIntervalMs: 100,
  maxPollIntervalMs: 2_000,
  deleteConcurrency: 8,
} as const;

// A run that never calls releaseRun (it crashed, or was abandoned) must not leave its sets
// forever; every use pushes this back, and no upload outlives 48 h anyway.
const MEMBERSHIP_TTL_MS = 7 * 24 * HOUR;
// A reservation whose uploader died stops counting against the quota after this.
const RESERVATION_TTL_MS = 30 * MINUTE;
// Expired stored files purged per reservation: bounded work per call, the rest on the next ones.
const PURGE_BATCH = 500;

/** The Files API calls the cache makes: a GoogleGenAI client fits. */
export interface FilesClient {
  files: Pick<GoogleGenAI["files"], "upload" | "get" | "delete">;
}

export interface FilesCacheOptions {
  redis: Redis;
  /** Tessera's Redis prefix: keys go under `${prefix}:files:` and `${prefix}:run:{id}:files`. */
  prefix: string;
  client: FilesClient;
  /** Time as the API sees it, for expiry (tests move it with the emulator's clock). */
  clock?: { now(): number };
  /** Bytes Tessera keeps uploaded at most, across every worker sharing the prefix. */
  quotaBytes?: number;
  /** A cached upload is reused while it has at least this long to live. */
  reuseMarginMs?: number;
  fileTtlMs?: number;
  /** How long an upload may stay PROCESSING. */
  activeTimeoutMs?: number;
  lockTtlMs?: number;
  /** How long a worker waits for another one's upload of the same image. */
  waitTimeoutMs?: number;
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  deleteConcurrency?: number;
  logger?: Logger;
}

/** A cached upload, as stored in Redis. */
export interface CachedFile {
  /** `files/{id}` */
  name: string;
  uri: string;
  mimeType: string;
  sizeBytes: number;
  /** Milliseconds since the epoch, on the cache's clock. */
  expiresAt: number;
}

export interface UploadedImage {
  fileUri: string;
  mimeType: string;
  /** `files/{id}`: what a FileUnavailableError names. */
  name: string;
  /** The content hash, for invalidate(). */
  hash: string;
}

export interface FilesUsage {
  usedBytes: number;
  quotaBytes: number;
}

/**
 * An upload would take Tessera's stored bytes past the quota (ours, or the API's own 429):
 * send the image inline instead, or wait for runs to release their files. Transient, so a
 * caller that does not handle it retries later.
 */
export class FilesQuotaError extends TesseraError {
  readonly source: "tessera" | "gemini";
  readonly requestedBytes: number;
  readonly usedBytes: number | undefined;
  readonly quotaBytes: number | undefined;

  constructor(source: "tessera" | "gemini", requested: number, usage?: FilesUsage, cause?: unknown) {
    const detail =
      usage === undefined
        ? "the API refused the upload (FileStorageBytesPerProject)"
        : `${usage.usedBytes} of ${usage.quotaBytes} bytes in use`;
    super("transient", `Files API storage quota: ${detail}; ${requested} more bytes do not fit`, {
      cause,
    });
    this.name = "FilesQuotaError";
    this.source = source;
    this.requestedBytes = requested;
    this.usedBytes = usage?.usedBytes;
    this.quotaBytes = usage?.quotaBytes;
  }
}

/** The cache key of an image: sha256 of its bytes, hex. */
export function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface FilesKeys {
  /** String (JSON CachedFile), expiring when the upload is no longer worth reusing. */
  entry(hash: string): string;
  /** String: the lock of the worker uploading this content. */
  lock(hash: string): string;
  /** Set of run ids that used this content. */
  runs(hash: string): string;
  /** String: present while a released run asked to keep this content's upload. */
  kept(hash: string): string;
  /** Set of content hashes a run used. */
  runFiles(runId: string): string;
  /** Sorted set: stored file name (or pending reservation) -> expiry, ms. */
  stored: string;
  /** Hash: stored file name (or pending reservation) -> bytes. */
  storedBytes: string;
  /** Integer: the bytes of everything in `stored`. */
  usedBytes: string;
}

export function filesKeys(prefix: string): FilesKeys {
  return {
    entry: (hash) => `${prefix}:files:entry:${hash}`,
    lock: (hash) => `${prefix}:files:lock:${hash}`,
    runs: (hash) => `${prefix}:files:runs:${hash}`,
    kept: (hash) => `${prefix}:files:kept:${hash}`,
    runFiles: (runId) => `${prefix}:run:${runId}:files`,
    stored: `${prefix}:files:stored`,
    storedBytes: `${prefix}:files:stored-bytes`,
    usedBytes: `${prefix}:files:bytes`,
  };
}

// KEYS: entry, run files, content runs. ARGV: hash, runId, membership ttl. The cached entry, and
// the run is recorded as a user of the content in the same step, so a release running at the
// same moment either sees this run or has already removed the entry.
const LOOKUP = `
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return redis.call('GET', KEYS[1])
`;

// Drops stored files whose expiry has passed from the byte count (the API deleted them itself).
const PURGE = `
local function purge(stored, sizes, used, now, batch)
  local expired = redis.call('ZRANGEBYSCORE', stored, '-inf', now, 'LIMIT', 0, batch)
  for _, member in ipairs(expired) do
    local size = redis.call('HGET', sizes, member)
    if size then redis.call('DECRBY', used, size) end
    redis.call('HDEL', sizes, member)
    redis.call('ZREM', stored, member)
  end
end
`;

// KEYS: stored, stored bytes, used. ARGV: now, member, size, quota, reservation expiry, batch.
// {1, used} when the bytes are now reserved, {0, used} when they do not fit.
const RESERVE = `${PURGE}
purge(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[6])
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
local size = tonumber(ARGV[3])
if used + size > tonumber(ARGV[4]) then return {0, used} end
redis.call('INCRBY', KEYS[3], size)
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], size)
return {1, used + size}
`;

// KEYS: stored, stored bytes, used. ARGV: now, batch.
const USAGE = `${PURGE}
purge(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
return tonumber(redis.call('GET', KEYS[3]) or '0')
`;

// KEYS: stored, stored bytes, used. ARGV: reservation, file name, expiry, size. The reservation
// becomes the stored file; if it had lapsed meanwhile, the file's bytes count again.
const COMMIT = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then redis.call('INCRBY', KEYS[3], ARGV[4]) end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
return 1
`;

// KEYS: stored, stored bytes, used. ARGV: member (file name or reservation).
const FORGET = `
local size = redis.call('HGET', KEYS[2], ARGV[1])
if size then redis.call('DECRBY', KEYS[3], size) end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
return size and 1 or 0
`;

// KEYS: entry. ARGV: file name ('' for any). The entry removed, or nil when it was not (or no
// longer) about that file: a worker late to report a dead file must not drop its replacement.
const INVALIDATE = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
if ARGV[1] ~= '' and cjson.decode(raw)['name'] ~= ARGV[1] then return nil end
redis.call('DEL', KEYS[1])
return raw
`;

// KEYS: content runs, entry, kept. ARGV: runId, keep. The entry when this run was its last user
// and nobody asked to keep it (it is removed: the caller deletes the file), else nil.
const RELEASE = `
redis.call('SREM', KEYS[1], ARGV[1])
local raw = redis.call('GET', KEYS[2])
if not raw then return nil end
if ARGV[2] == '1' then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then redis.call('SET', KEYS[3], '1', 'PX', ttl) end
  return nil
end
if redis.call('SCARD', KEYS[1]) > 0 or redis.call('EXISTS', KEYS[3]) == 1 then return nil end
redis.call('DEL', KEYS[2])
return raw
`;

// KEYS: lock. ARGV: token, ttl. Renews (ttl given) or releases (no ttl) only the caller's own lock.
const LOCK_OWNED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])
`;

/**
 * Images uploaded through the Files API, shared by every worker through Redis: each content
 * (sha256) is uploaded once, reused while it has time left, uploaded again when it expires or
 * goes missing, and deleted when the last run using it is released. The bytes Tessera keeps
 * stored are counted atomically against a quota below the API's 20 GB.
 */
export class FilesCache {
  readonly keys: FilesKeys;
  readonly quotaBytes: number;
  readonly #redis: Redis;
  readonly #files: FilesClient["files"];
  readonly #clock: { now(): number };
  readonly #reuseMarginMs: number;
  readonly #fileTtlMs: number;
  readonly #activeTimeoutMs: number;
  readonly #lockTtlMs: number;
  readonly #waitTimeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxPollIntervalMs: number;
  readonly #deleteConcurrency: number;
  readonly #logger: Logger | undefined;

  constructor(options: FilesCacheOptions) {
    const d = FILES_CACHE_DEFAULTS;
    this.keys = filesKeys(options.prefix);
    this.#redis = options.redis;
    this.#files = options.client.files;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.quotaBytes = positive("quotaBytes", options.quotaBytes ?? d.quotaBytes);
    this.#reuseMarginMs = positive("reuseMarginMs", options.reuseMarginMs ?? d.reuseMarginMs, true);
    this.#fileTtlMs = positive("fileTtlMs", options.fileTtlMs ?? d.fileTtlMs);
    this.#activeTimeoutMs = positive("activeTimeoutMs", options.activeTimeoutMs ?? d.activeTimeoutMs);
    this.#lockTtlMs = positive("lockTtlMs", options.lockTtlMs ?? d.lockTtlMs);
    this.#waitTimeoutMs = positive("waitTimeoutMs", options.waitTimeoutMs ?? d.waitTimeoutMs);
    this.#pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs ?? d.pollIntervalMs);
    this.#maxPollIntervalMs = Math.max(
      this.#pollIntervalMs,
      positive("maxPollIntervalMs", options.maxPollIntervalMs ?? d.maxPollIntervalMs),
    );
    this.#deleteConcurrency = Math.floor(
      positive("deleteConcurrency", options.deleteConcurrency ?? d.deleteConcurrency),
    );
    this.#logger = options.logger;
  }

  /**
   * The uploaded file for these bytes: the cached one while it has reuseMarginMs left, else a
   * fresh upload, ACTIVE before it is returned. Concurrent callers with the same bytes (in any
   * worker) share one upload. Throws FilesQuotaError when the upload does not fit, TesseraError
   * bad_image when the API cannot process the image.
   */
  async getOrUpload(image: { bytes: Buffer; mimeType: string; runId: string }): Promise<UploadedImage> {
    const hash = contentHash(image.bytes);
    const started = performance.now();
    let delay = this.#pollIntervalMs;
    for (;;) {
      const cached = await this.#lookup(hash, image.runId);
      if (cached !== undefined && this.#reusable(cached)) return uploaded(cached, hash);
      const token = await this.#lock(hash);
      if (token !== undefined) {
        const stop = this.#renewWhileHeld(hash, token);
        try {
          // Another worker may have finished between the lookup and the lock.
          const again = await this.#entry(hash);
          if (again !== undefined && this.#reusable(again)) return uploaded(again, hash);
          return uploaded(await this.#upload(hash, image.bytes, image.mimeType), hash);
        } finally {
          stop();
          await this.#redis.eval(LOCK_OWNED, 1, this.keys.lock(hash), token);
        }
      }
      if (performance.now() - started > this.#waitTimeoutMs) {
        throw new TesseraError(
          "transient",
          `gave up after ${this.#waitTimeoutMs} ms waiting for another worker's upload of sha256 ${hash}`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 1.5, this.#maxPollIntervalMs);
    }
  }

  /**
   * Forgets the cached upload of `hash` after Gemini refused it (FileUnavailableError's
   * fileName as `name`) and deletes that file if it still exists: the next getOrUpload uploads
   * again. The entry is only dropped while it still points at `name`, so a late report does not
   * drop a newer upload. True when an entry was removed.
   */
  async invalidate(hash: string, name?: string): Promise<boolean> {
    const raw = (await this.#redis.eval(INVALIDATE, 1, this.keys.entry(hash), name ?? "")) as string | null;
    const dead = name ?? (raw === null ? undefined : parseEntry(raw).name);
    if (dead !== undefined) await this.#deleteFile(dead);
    return raw !== null;
  }

  /**
   * Ends a run's use of its uploads. Files no other unreleased run uses are deleted, unless
   * `keep`: then they stay until they expire, and a later release of another run leaves them too.
   */
  async releaseRun(runId: string, options: { keep?: boolean } = {}): Promise<{ deleted: number }> {
    const runFiles = this.keys.runFiles(runId);
    const doomed: string[] = [];
    let cursor = "0";
    do {
      const [next, hashes] = await this.#redis.sscan(runFiles, cursor, "COUNT", 200);
      cursor = next;
      for (const hash of hashes) {
        const raw = (await this.#redis.eval(
          RELEASE,
          3,
          this.keys.runs(hash),
          this.keys.entry(hash),
          this.keys.kept(hash),
          runId,
          options.keep === true ? "1" : "0",
        )) as string | null;
        if (raw !== null) doomed.push(parseEntry(raw).name);
      }
    } while (cursor !== "0");
    await this.#redis.del(runFiles);
    let next = 0;
    const deleteNext = async (): Promise<void> => {
      while (next < doomed.length) {
        const name = doomed[next++];
        if (name !== undefined) await this.#deleteFile(name);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#deleteConcurrency, doomed.length) }, deleteNext));
    return { deleted: doomed.length };
  }

  /** Bytes of the uploads Tessera holds (reservations included, expired files not). */
  async usage(): Promise<FilesUsage> {
    const used = (await this.#redis.eval(
      USAGE,
      3,
      this.keys.stored,
      this.keys.storedBytes,
      this.keys.usedBytes,
      this.#clock.now(),
      PURGE_BATCH,
    )) as number;
    return { usedBytes: used, quotaBytes: this.quotaBytes };
  }

  #reusable(file: CachedFile): boolean {
    return file.expiresAt - this.#clock.now() >= this.#reuseMarginMs;
  }

  async #lookup(hash: string, runId: string): Promise<CachedFile | undefined> {
    const raw = (await this.#redis.eval(
      LOOKUP,
      3,
      this.keys.entry(hash),
      this.keys.runFiles(runId),
      this.keys.runs(hash),
      hash,
      runId,
      MEMBERSHIP_TTL_MS,
    )) as string | null;
    return raw === null ? undefined : parseEntry(raw);
  }

  async #entry(hash: string): Promise<CachedFile | undefined> {
    const raw = await this.#redis.get(this.keys.entry(hash));
    return raw === null ? undefined : parseEntry(raw);
  }

  async #lock(hash: string): Promise<string | undefined> {
    const token = randomBytes(12).toString("hex");
    const ok = await this.#redis.set(this.keys.lock(hash), token, "PX", this.#lockTtlMs, "NX");
    return ok === "OK" ? token : undefined;
  }

  /** Keeps the lock alive during a long upload; the returned function stops renewing. */
  #renewWhileHeld(hash: string, token: string): () => void {
    const timer = setInterval(() => {
      this.#redis.eval(LOCK_OWNED, 1, this.keys.lock(hash), token, this.#lockTtlMs).catch((err: unknown) => {
        this.#logger?.warn("files cache: lock renewal failed", { hash, error: errorMessage(err) });
      });
    }, this.#lockTtlMs / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  async #upload(hash: string, bytes: Buffer, mimeType: string): Promise<CachedFile> {
    const size = bytes.length;
    const reservation = `pending:${randomBytes(8).toString("hex")}`;
    const now = this.#clock.now();
    const [ok, used] = (await this.#redis.eval(
      RESERVE,
      3,
      this.keys.stored,
      this.keys.storedBytes,
      this.keys.usedBytes,
      now,
      reservation,
      size,
      this.quotaBytes,
      now + RESERVATION_TTL_MS,
      PURGE_BATCH,
    )) as [number, number];
    if (ok !== 1)
      throw new FilesQuotaError("tessera", size, { usedBytes: used, quotaBytes: this.quotaBytes });

    let file: GeminiFile;
    try {
      file = await this.#files.upload({
        file: new Blob([new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)], {
          type: mimeType,
        }),
        config: { mimeType, displayName: `tessera-${hash.slice(0, 16)}` },
      });
    } catch (err) {
      await this.#forget(reservation);
      if (isStorageQuotaError(err)) throw new FilesQuotaError("gemini", size, undefined, err);
      throw classifyGeminiError(err);
    }
    const name = file.name;
    if (name === undefined || file.uri === undefined) {
      await this.#forget(reservation);
      throw new TesseraError("transient", "Files API upload answered without a file name or uri");
    }
    const expiresAt = expiryOf(file) ?? this.#clock.now() + this.#fileTtlMs;
    await this.#redis.eval(
      COMMIT,
      3,
      this.keys.stored,
      this.keys.storedBytes,
      this.keys.usedBytes,
      reservation,
      name,
      expiresAt,
      size,
    );
    this.#logger?.debug("files cache: uploaded", { name, hash, bytes: size });

    try {
      file = await this.#waitActive(file, name);
    } catch (err) {
      await this.#deleteFile(name);
      throw err;
    }
    const entry: CachedFile = {
      name,
      uri: file.uri ?? "",
      mimeType: file.mimeType ?? mimeType,
      sizeBytes: Number(file.sizeBytes ?? size),
      expiresAt: expiryOf(file) ?? expiresAt,
    };
    const ttl = Math.floor(entry.expiresAt - this.#reuseMarginMs - this.#clock.now());
    if (ttl > 0) await this.#redis.set(this.keys.entry(hash), JSON.stringify(entry), "PX", ttl);
    return entry;
  }

  async #waitActive(uploadedFile: GeminiFile, name: string): Promise<GeminiFile> {
    let file = uploadedFile;
    const deadline = performance.now() + this.#activeTimeoutMs;
    let delay = this.#pollIntervalMs;
    for (;;) {
      if (file.state === FileState.ACTIVE) return file;
      if (file.state === FileState.FAILED) {
        throw new TesseraError(
          "bad_image",
          `Gemini could not process the uploaded image ${name}: ${file.error?.message ?? "state FAILED"}`,
        );
      }
      if (performance.now() >= deadline) {
        throw new TesseraError(
          "transient",
          `${name} still ${file.state ?? "without a state"} ${this.#activeTimeoutMs} ms after its upload`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, this.#maxPollIntervalMs);
      try {
        file = await this.#files.get({ name });
      } catch (err) {
        throw classifyGeminiError(err);
      }
    }
  }

  /** Deletes a file and stops counting it; a file already gone (403/404) only stops counting. */
  async #deleteFile(name: string): Promise<void> {
    try {
      await this.#files.delete({ name });
    } catch (err) {
      if (!(err instanceof ApiError && (err.status === 403 || err.status === 404))) {
        // Still stored, so still counted: it leaves the count when it expires.
        this.#logger?.warn("files cache: delete failed", { name, error: errorMessage(err) });
        return;
      }
    }
    await this.#forget(name);
  }

  async #forget(member: string): Promise<void> {
    await this.#redis.eval(FORGET, 3, this.keys.stored, this.keys.storedBytes, this.keys.usedBytes, member);
  }
}

function uploaded(file: CachedFile, hash: string): UploadedImage {
  return { fileUri: file.uri, mimeType: file.mimeType, name: file.name, hash };
}

function expiryOf(file: GeminiFile): number | undefined {
  const at = file.expirationTime === undefined ? Number.NaN : Date.parse(file.expirationTime);
  return Number.isFinite(at) ? at : undefined;
}

function parseEntry(raw: string): CachedFile {
  return JSON.parse(raw) as CachedFile;
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`FilesCache: ${name} must be a number ${allowZero ? ">=" : ">"} 0, got ${value}`);
  }
  return value;
}
