// The Files API's storage: files per API key (the API scopes them per project), held in memory,
// with the API's per-file and per-project limits and a lifetime measured on the emulator clock.
import { createHash } from "node:crypto";
import type { Clock } from "./clock.ts";
import {
  fileAlreadyExists,
  fileNotAccessible,
  fileNotActive,
  fileTooLarge,
  invalidFileName,
  storageQuotaExceeded,
} from "./errors.ts";
import { FILE_ID, randomId } from "./ids.ts";
import type { Page, PageRequest } from "./paging.ts";
import { paginate } from "./paging.ts";

const GIB = 1024 * 1024 * 1024;
const HOUR = 60 * 60 * 1000;

export interface FilesOptions {
  /** Largest file accepted, in bytes. The API: 2 GB. */
  maxFileBytes?: number;
  /** Bytes stored per API key (the API counts per project). The API: 20 GB. */
  maxProjectBytes?: number;
  /** How long a new upload stays PROCESSING before it turns ACTIVE or FAILED, on the emulator clock. */
  processingMs?: number;
  /** How long a file lives. The API: 48 h. */
  ttlMs?: number;
}

export const FILES_DEFAULTS = {
  maxFileBytes: 2 * GIB,
  // The quota value the API reports for FileStorageBytesPerProject: 21474836480.
  maxProjectBytes: 20 * GIB,
  // Images are usable as soon as the upload finishes; the delay exists to test the PROCESSING path.
  processingMs: 0,
  ttlMs: 48 * HOUR,
  pageSize: 10,
  maxPageSize: 100,
} as const;

export type FileState = "PROCESSING" | "ACTIVE" | "FAILED";
export type FileSource = "UPLOADED" | "GENERATED";

export interface StoredFile {
  id: string;
  /** Creation order, for listing and page tokens. */
  seq: number;
  owner: string;
  displayName: string | undefined;
  mimeType: string;
  bytes: Buffer;
  sha256Hex: string;
  createTime: number;
  /** When processing ends: the file is ACTIVE from then on, or FAILED if `problem` is set. */
  readyAt: number;
  expiresAt: number;
  source: FileSource;
  /** Why processing fails (bytes that are not the declared image type). */
  problem: string | undefined;
}

export interface NewFile {
  /** The id part of a client-chosen name (`files/<id>`); a random one otherwise. */
  id?: string | undefined;
  displayName?: string | undefined;
  mimeType: string;
  bytes: Buffer;
  source: FileSource;
  problem?: string | undefined;
}

export class FileStore {
  readonly limits: Required<FilesOptions>;
  readonly #clock: Clock;
  readonly #files = new Map<string, StoredFile>();
  #seq = 0;

  constructor(clock: Clock, options: FilesOptions = {}) {
    this.#clock = clock;
    this.limits = {
      maxFileBytes: options.maxFileBytes ?? FILES_DEFAULTS.maxFileBytes,
      maxProjectBytes: options.maxProjectBytes ?? FILES_DEFAULTS.maxProjectBytes,
      processingMs: options.processingMs ?? FILES_DEFAULTS.processingMs,
      ttlMs: options.ttlMs ?? FILES_DEFAULTS.ttlMs,
    };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!(Number.isFinite(value) && value >= 0)) {
        throw new RangeError(`files.${name} must be a number >= 0, got ${value}`);
      }
    }
  }

  now(): number {
    return this.#clock.now();
  }

  usedBytes(owner: string): number {
    let used = 0;
    for (const file of this.#live()) if (file.owner === owner) used += file.bytes.length;
    return used;
  }

  /** All keys together, for the admin snapshot. */
  totals(): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const file of this.#live()) {
      count += 1;
      bytes += file.bytes.length;
    }
    return { count, bytes };
  }

  /** Throws the API's errors for a file of `size` bytes that would not fit. */
  checkRoom(owner: string, size: number): void {
    if (size > this.limits.maxFileBytes) throw fileTooLarge(this.limits.maxFileBytes);
    if (this.usedBytes(owner) + size > this.limits.maxProjectBytes) {
      throw storageQuotaExceeded(this.limits.maxProjectBytes);
    }
  }

  /** Throws if `id` is not a valid client-chosen id or is taken. */
  checkId(id: string): void {
    if (!FILE_ID.test(id)) throw invalidFileName(`files/${id}`);
    if (this.#find(id) !== undefined) throw fileAlreadyExists(`files/${id}`);
  }

  /**
   * Uploads count against the storage quota; generated files (batch results) are always kept, as
   * a batch cannot be refused after it ran, and later uploads see their bytes as used.
   */
  add(owner: string, file: NewFile): StoredFile {
    if (file.id !== undefined) this.checkId(file.id);
    if (file.source === "UPLOADED") this.checkRoom(owner, file.bytes.length);
    let id = file.id;
    while (id === undefined || this.#files.has(id)) id = randomId(12);
    const now = this.now();
    const stored: StoredFile = {
      id,
      seq: (this.#seq += 1),
      owner,
      displayName: file.displayName,
      mimeType: file.mimeType,
      bytes: file.bytes,
      sha256Hex: createHash("sha256").update(file.bytes).digest("hex"),
      createTime: now,
      readyAt: file.source === "GENERATED" ? now : now + this.limits.processingMs,
      expiresAt: now + this.limits.ttlMs,
      source: file.source,
      problem: file.problem,
    };
    this.#files.set(id, stored);
    return stored;
  }

  stateOf(file: StoredFile): FileState {
    if (this.now() < file.readyAt) return "PROCESSING";
    return file.problem === undefined ? "ACTIVE" : "FAILED";
  }

  /** Someone else's file, a deleted one and an expired one all look like no file at all. */
  get(owner: string, id: string): StoredFile {
    const file = this.#find(id);
    if (file === undefined || file.owner !== owner) throw fileNotAccessible(id);
    return file;
  }

  /** For use in a model request: it must also have finished processing, successfully. */
  getActive(owner: string, id: string): StoredFile {
    const file = this.get(owner, id);
    if (this.stateOf(file) !== "ACTIVE") throw fileNotActive(id);
    return file;
  }

  delete(owner: string, id: string): void {
    this.get(owner, id);
    this.#files.delete(id);
  }

  list(owner: string, page: PageRequest): Page<StoredFile> {
    const mine = [...this.#live()].filter((file) => file.owner === owner).sort((a, b) => b.seq - a.seq);
    return paginate(mine, page);
  }

  #find(id: string): StoredFile | undefined {
    const file = this.#files.get(id);
    if (file === undefined) return undefined;
    if (this.now() >= file.expiresAt) {
      this.#files.delete(id);
      return undefined;
    }
    return file;
  }

  *#live(): Generator<StoredFile> {
    const now = this.now();
    for (const [id, file] of this.#files) {
      if (now >= file.expiresAt) this.#files.delete(id);
      else yield file;
    }
  }
}
