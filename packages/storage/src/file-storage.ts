import { randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { constants as fsConstants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { access, link, mkdir, open, opendir, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import {
  AccessDeniedError,
  LocationNotFoundError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PreconditionFailedError,
  StorageError,
} from "./errors.ts";
import { assertKey, assertListPrefix, compareKeys } from "./keys.ts";
import type { FileLocation } from "./location.ts";
import { formatLocation } from "./location.ts";
import { assertPutOptions, assertRange, unquoteEtag } from "./options.ts";
import { assertPresignExpiry } from "./presign.ts";
import type {
  CheckAccessOptions,
  GetOptions,
  ListOptions,
  ObjectInfo,
  PutOptions,
  PutStreamOptions,
  Storage,
} from "./types.ts";

/** In-progress puts live beside their target under this name; list() never shows them. */
const TEMP_PREFIX = ".tessera-tmp-";
const DEFAULT_STAT_BATCH = 64;
const FILE_KEYS = { allowEmptySegments: false };

/**
 * file:// storage. Writes are atomic (temp file in the target directory, then rename or link), so
 * a reader never sees half an object. There is no metadata store: contentType and cacheControl
 * are accepted and dropped, and head() reports no contentType.
 */
export class FileStorage implements Storage {
  readonly location: FileLocation;

  constructor(location: FileLocation) {
    this.location = location;
  }

  describe(key?: string): string {
    return formatLocation(this.location, key ?? "");
  }

  async *list(opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const prefix = opts.prefix ?? "";
    assertListPrefix(prefix, this.describe(), FILE_KEYS);
    const batch = Math.max(1, Math.floor(opts.pageSize ?? DEFAULT_STAT_BATCH));
    const root = await this.statRoot();
    // Only the folder part of the prefix is walked into; its last, partial name filters entries.
    const cut = prefix.lastIndexOf("/") + 1;
    const folders = prefix.slice(0, cut).split("/").filter(Boolean);
    const ancestors = new Set([inodeId(root)]);
    let dirKey = "";
    for (const folder of folders) {
      dirKey = `${dirKey}${folder}/`;
      const st = await statOrUndefined(this.pathOf(dirKey), () => this.describe(dirKey));
      if (st === undefined || !st.isDirectory()) return;
      ancestors.add(inodeId(st));
    }
    yield* this.walk(dirKey, prefix.slice(cut), ancestors, batch, opts.signal);
  }

  /**
   * Depth-first, one directory in memory at a time. Sorting each directory with folder names
   * suffixed by "/" yields the global key order S3 uses: "a-b" < "a/x" because "-" < "/".
   */
  private async *walk(
    dirKey: string,
    namePrefix: string,
    ancestors: Set<string>,
    batch: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ObjectInfo> {
    signal?.throwIfAborted();
    const dirPath = this.pathOf(dirKey);
    let dirents;
    try {
      dirents = await readdir(dirPath, { withFileTypes: true });
    } catch (error) {
      // Removed or replaced by a file while we walked: it holds nothing to list any more.
      if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return;
      throw fsError(error, this.describe(dirKey), "reading the directory");
    }

    const entries: { name: string; sortName: string; link: boolean }[] = [];
    for (const dirent of dirents) {
      if (!dirent.name.startsWith(namePrefix) || dirent.name.startsWith(TEMP_PREFIX)) continue;
      const link = dirent.isSymbolicLink();
      if (!link && !dirent.isFile() && !dirent.isDirectory()) continue; // fifos, sockets, devices
      entries.push({
        name: dirent.name,
        sortName: dirent.isDirectory() ? `${dirent.name}/` : dirent.name,
        link,
      });
    }
    // A symlink sorts as what it points to; resolve those (usually few) before sorting.
    for (const entry of entries) {
      if (!entry.link) continue;
      const target = await statOrUndefined(path.join(dirPath, entry.name), () =>
        this.describe(dirKey + entry.name),
      );
      if (target?.isDirectory()) entry.sortName = `${entry.name}/`;
    }
    entries.sort((a, b) => compareKeys(a.sortName, b.sortName));

    for (let start = 0; start < entries.length; start += batch) {
      signal?.throwIfAborted();
      const slice = entries.slice(start, start + batch);
      const stats = await Promise.all(
        slice.map((entry) =>
          statOrUndefined(path.join(dirPath, entry.name), () => this.describe(dirKey + entry.name)),
        ),
      );
      for (const [i, entry] of slice.entries()) {
        const st = stats[i];
        if (st === undefined) continue; // vanished since readdir, or a dangling symlink
        const key = dirKey + entry.name;
        if (st.isFile()) {
          yield infoOf(key, st);
        } else if (st.isDirectory()) {
          const id = inodeId(st);
          if (ancestors.has(id)) continue; // a symlink back up the tree: following it never ends
          ancestors.add(id);
          yield* this.walk(`${key}/`, "", ancestors, batch, signal);
          ancestors.delete(id);
        }
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const st = await statOrUndefined(this.resolve(key), () => this.describe(key));
    return st?.isFile() ? infoOf(key, st) : undefined;
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    assertRange(start, endInclusive);
    return this.withFile(key, async (handle, st) => {
      // Sized by the file, not the request: probes ask for generous ranges of small files.
      const available = Math.max(0, Number(st.size) - start);
      return readFrom(handle, start, Math.min(endInclusive - start + 1, available));
    });
  }

  async get(key: string, opts: GetOptions = {}): Promise<Buffer> {
    const where = this.describe(key);
    return this.withFile(key, async (handle, st) => {
      if (opts.ifMatch !== undefined && unquoteEtag(opts.ifMatch) !== fingerprint(st)) {
        throw new PreconditionFailedError(where, `If-Match ${unquoteEtag(opts.ifMatch)}`);
      }
      const size = Number(st.size);
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        throw new ObjectTooLargeError(where, size, opts.maxBytes);
      }
      const body = await handle.readFile();
      // Checked again: something may append to the file in place after the fstat.
      if (opts.maxBytes !== undefined && body.length > opts.maxBytes) {
        throw new ObjectTooLargeError(where, body.length, opts.maxBytes);
      }
      return body;
    });
  }

  async put(key: string, body: Buffer | string, opts: PutOptions): Promise<{ etag: string }> {
    assertPutOptions(opts);
    const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return this.writeAtomically(key, opts, async (handle) => {
      await handle.writeFile(data);
    });
  }

  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array>,
    opts: PutStreamOptions,
  ): Promise<{ etag: string }> {
    return this.writeAtomically(key, { contentType: opts.contentType }, async (handle) => {
      for await (const chunk of body) await handle.write(chunk);
    });
  }

  private async writeAtomically(
    key: string,
    opts: PutOptions,
    write: (handle: FileHandle) => Promise<void>,
  ): Promise<{ etag: string }> {
    const target = this.resolve(key);
    const where = this.describe(key);
    const dir = path.dirname(target);
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      if (codeOf(error) === "EEXIST" || codeOf(error) === "ENOTDIR") {
        throw new StorageError(`${where}: cannot write: a parent folder of the key is a file`, where, {
          cause: error,
        });
      }
      throw fsError(error, where, "creating its folder");
    }
    const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
    try {
      let etag: string;
      let handle: FileHandle;
      try {
        handle = await open(temp, "wx");
      } catch (error) {
        throw fsError(error, where, "creating a temporary file");
      }
      try {
        await write(handle);
        // Durable before it becomes visible: a crash must not leave an empty write-once object
        // that a rerun would then skip as already done.
        await handle.datasync();
        // rename() and link() keep inode, size and mtime, so this is the final object's ETag.
        etag = fingerprint(await handle.stat({ bigint: true }));
      } catch (error) {
        throw fsError(error, where, "writing");
      } finally {
        await handle.close();
      }

      if (opts.ifNoneMatch === "*") {
        // link(2) fails with EEXIST instead of replacing: the only atomic create-if-absent for a
        // file that is already complete.
        try {
          await link(temp, target);
        } catch (error) {
          if (codeOf(error) === "EEXIST")
            throw new PreconditionFailedError(where, "If-None-Match *: the key exists");
          throw fsError(error, where, "linking into place");
        }
        return { etag };
      }
      if (opts.ifMatch !== undefined) {
        // Not atomic with the rename below: POSIX has no compare-and-swap on a path. Enough for a
        // single writer per key, which is how runs use it.
        const current = await statOrUndefined(target, () => where);
        const expected = unquoteEtag(opts.ifMatch);
        if (current === undefined || !current.isFile()) {
          throw new PreconditionFailedError(where, `If-Match ${expected}: the key does not exist`);
        }
        if (fingerprint(current) !== expected)
          throw new PreconditionFailedError(where, `If-Match ${expected}`);
      }
      try {
        await rename(temp, target);
      } catch (error) {
        if (codeOf(error) === "EISDIR" || codeOf(error) === "ENOTEMPTY" || codeOf(error) === "EEXIST") {
          throw new StorageError(`${where}: cannot write: the key is a folder`, where, { cause: error });
        }
        throw fsError(error, where, "renaming into place");
      }
      return { etag };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.resolve(key);
    try {
      await unlink(target);
    } catch (error) {
      const code = codeOf(error);
      // Missing, or a folder (which is no object): S3 answers 204 for both, so do we.
      if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return;
      throw fsError(error, this.describe(key), "deleting");
    }
  }

  /** Gemini (or any other remote reader) cannot fetch a local path: callers send the bytes instead. */
  presignGet(key: string, expiresInSeconds: number): Promise<undefined> {
    // Checked as on S3, so a bad key or expiry fails the same way whatever the storage.
    return Promise.resolve().then(() => {
      this.resolve(key);
      assertPresignExpiry(expiresInSeconds);
      return undefined;
    });
  }

  async checkAccess(opts: CheckAccessOptions = {}): Promise<void> {
    const where = this.describe();
    let st;
    try {
      st = await stat(this.location.path);
    } catch (error) {
      // ENOTDIR: some ancestor is a file; the directory is just as absent.
      if (codeOf(error) !== "ENOENT" && codeOf(error) !== "ENOTDIR")
        throw fsError(error, where, "checking the directory");
      if (!opts.write) throw new LocationNotFoundError(where, "the directory does not exist", error);
      await this.checkCreatable(where);
      return;
    }
    if (!st.isDirectory()) throw new LocationNotFoundError(where, "this is not a directory");
    try {
      // Opening it, rather than access(R_OK), also catches ACLs and LSMs that access() ignores.
      const dir = await opendir(this.location.path);
      await dir.close();
    } catch (error) {
      throw fsError(error, where, "reading the directory");
    }
    if (opts.write) await assertWritable(this.location.path, where);
  }

  /** An output directory need not exist yet: its nearest existing ancestor must let us create it. */
  private async checkCreatable(where: string): Promise<void> {
    let dir = path.dirname(this.location.path);
    for (;;) {
      const st = await statOrUndefined(dir, () => where);
      if (st !== undefined) {
        if (!st.isDirectory()) {
          throw new LocationNotFoundError(where, `cannot be created: ${dir} is not a directory`);
        }
        await assertWritable(dir, where);
        return;
      }
      const parent = path.dirname(dir);
      if (parent === dir) return;
      dir = parent;
    }
  }

  private async statRoot(): Promise<BigIntStats> {
    const where = this.describe();
    let st;
    try {
      st = await stat(this.location.path, { bigint: true });
    } catch (error) {
      if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") {
        throw new LocationNotFoundError(where, "the directory does not exist", error);
      }
      throw fsError(error, where, "reading the directory");
    }
    if (!st.isDirectory()) throw new LocationNotFoundError(where, "this is not a directory");
    return st;
  }

  private pathOf(key: string): string {
    return path.join(this.location.path, key);
  }

  private resolve(key: string): string {
    assertKey(key, this.describe(), FILE_KEYS);
    return this.pathOf(key);
  }

  private async withFile<T>(
    key: string,
    read: (handle: FileHandle, st: BigIntStats) => Promise<T>,
  ): Promise<T> {
    const file = this.resolve(key);
    const where = this.describe(key);
    let handle: FileHandle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      const code = codeOf(error);
      if (code === "ENOENT" || code === "ENOTDIR") throw new ObjectNotFoundError(where, error);
      throw fsError(error, where, "opening");
    }
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw new ObjectNotFoundError(where);
      return await read(handle, st);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw fsError(error, where, "reading");
    } finally {
      await handle.close();
    }
  }
}

/**
 * Not an MD5 of the content: a version fingerprint from size, mtime (ns) and inode, stable while
 * the file is untouched. Every put() renames a fresh inode into place, so two writes of the same
 * size within one mtime tick still get different ETags.
 */
export function fingerprint(st: BigIntStats): string {
  return `${st.size.toString(16)}-${st.mtimeNs.toString(16)}-${st.ino.toString(16)}`;
}

function infoOf(key: string, st: BigIntStats): ObjectInfo {
  return { key, size: Number(st.size), etag: fingerprint(st), lastModified: st.mtime };
}

function inodeId(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

/** `where` is a function: list() stats every entry, and describe() is only needed on failure. */
async function statOrUndefined(file: string, where: () => string): Promise<BigIntStats | undefined> {
  try {
    return await stat(file, { bigint: true });
  } catch (error) {
    const code = codeOf(error);
    // ELOOP: a symlink cycle at the link level (a -> b -> a) points at nothing.
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return undefined;
    throw fsError(error, where(), "reading file status");
  }
}

async function assertWritable(dir: string, where: string): Promise<void> {
  try {
    await access(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch (error) {
    throw fsError(error, where, `writing into ${dir}`);
  }
}

async function readFrom(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function fsError(error: unknown, where: string, doing: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = codeOf(error);
  if (code === "EACCES" || code === "EPERM") return new AccessDeniedError(where, `${doing}: ${code}`, error);
  const message = error instanceof Error ? error.message : String(error);
  return new StorageError(`${where}: ${doing} failed: ${message}`, where, { cause: error });
}
