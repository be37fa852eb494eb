import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setImmediate as tick } from "node:timers/promises";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  InvalidKeyError,
  LocationNotFoundError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PreconditionFailedError,
} from "./errors.ts";
import { FileStorage } from "./file-storage.ts";
import { compareKeys } from "./keys.ts";
import type { ObjectInfo } from "./types.ts";

let root: string;
let storage: FileStorage;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tessera-file-storage-"));
  storage = new FileStorage({ scheme: "file", path: root });
});

afterEach(async () => {
  await chmod(root, 0o700).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

async function write(key: string, body: string | Buffer = key): Promise<void> {
  await mkdir(path.dirname(path.join(root, key)), { recursive: true });
  await writeFile(path.join(root, key), body);
}

const run = promisify(execFile);

async function keys(from: FileStorage, opts?: Parameters<FileStorage["list"]>[0]): Promise<string[]> {
  const out: string[] = [];
  for await (const info of from.list(opts)) out.push(info.key);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("FileStorage.list", () => {
  // Names chosen so that per-directory name order differs from key order ("a-b" < "a/"),
  // and UTF-16 order differs from UTF-8 order (U+FF5E vs an emoji).
  const tree = [
    "a-b",
    "a/b",
    "a/c/d.jpg",
    "a.jpg",
    "B.png",
    "z/\u{1F600}.jpg",
    "z/\uFF5E.jpg",
    "z/y/x",
    "ab",
  ];

  beforeEach(async () => {
    for (const key of tree) await write(key);
  });

  it("streams every file in S3 key order (UTF-8 bytes), with sizes and ETags", async () => {
    const infos: ObjectInfo[] = [];
    for await (const info of storage.list()) infos.push(info);
    const expected = [...tree].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(infos.map((i) => i.key)).toEqual(expected);
    expect([...tree].sort(compareKeys)).toEqual(expected);
    const first = infos[0];
    expect(first).toMatchObject({ key: "B.png", size: "B.png".length });
    expect(first?.etag).toMatch(/^[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/);
    expect(first?.lastModified).toBeInstanceOf(Date);
  });

  it.each([1, 2, 3, 1000])("gives the same listing with pageSize %i", async (pageSize) => {
    expect(await keys(storage, { pageSize })).toEqual(await keys(storage));
  });

  it("filters by a folder prefix or a partial name", async () => {
    expect(await keys(storage, { prefix: "a/" })).toEqual(["a/b", "a/c/d.jpg"]);
    expect(await keys(storage, { prefix: "a" })).toEqual(["a-b", "a.jpg", "a/b", "a/c/d.jpg", "ab"]);
    expect(await keys(storage, { prefix: "z/y" })).toEqual(["z/y/x"]);
    expect(await keys(storage, { prefix: "a/c/d" })).toEqual(["a/c/d.jpg"]);
    expect(await keys(storage, { prefix: "nope/" })).toEqual([]);
    expect(await keys(storage, { prefix: "a.jpg/" })).toEqual([]);
  });

  it("lists keys relative to a nested root", async () => {
    const nested = new FileStorage({ scheme: "file", path: path.join(root, "a") });
    expect(await keys(nested)).toEqual(["b", "c/d.jpg"]);
  });

  it("skips empty folders, in-progress temp files, fifos and dangling symlinks", async () => {
    await mkdir(path.join(root, "empty/deeper"), { recursive: true });
    await writeFile(path.join(root, "a", ".tessera-tmp-0011223344556677"), "partial");
    await symlink(path.join(root, "missing"), path.join(root, "dangling"));
    await run("mkfifo", [path.join(root, "pipe")]);
    expect(await keys(storage)).toEqual([...tree].sort(compareKeys));
  });

  it("follows symlinks but not loops", async () => {
    const outside = await mkdtemp(path.join(tmpdir(), "tessera-outside-"));
    try {
      await writeFile(path.join(outside, "o.jpg"), "o");
      await symlink(outside, path.join(root, "linked"));
      await symlink(path.join(root, "a", "b"), path.join(root, "b-link"));
      await symlink(root, path.join(root, "z", "y", "up")); // z/y/up -> root: a cycle
      await symlink("self", path.join(root, "self")); // a link to itself: ELOOP
      const listed = await keys(storage);
      expect(listed).toContain("linked/o.jpg");
      expect(listed).toContain("b-link");
      expect(listed.filter((k) => k.includes("up/"))).toEqual([]);
      expect(listed).not.toContain("self");
      expect(listed).toEqual([...listed].sort(compareKeys));
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("is lazy: stopping early leaves the rest unread", async () => {
    const seen: string[] = [];
    for await (const info of storage.list({ pageSize: 1 })) {
      seen.push(info.key);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(["B.png", "a-b"]);
  });

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const info of storage.list({ pageSize: 1, signal: controller.signal })) {
          seen.push(info.key);
          controller.abort();
        }
      })(),
    );
    expect(error.name).toBe("AbortError");
    expect(seen).toHaveLength(1);
  });

  it("throws LocationNotFoundError for a missing root and rejects escaping prefixes", async () => {
    const missing = new FileStorage({ scheme: "file", path: path.join(root, "nope") });
    const error = await rejection(keys(missing));
    expect(error).toBeInstanceOf(LocationNotFoundError);
    expect(error.message).toContain(`file://${root}/nope`);
    await expect(keys(storage, { prefix: "../" })).rejects.toThrow(InvalidKeyError);
    await expect(keys(storage, { prefix: "a/../../" })).rejects.toThrow(InvalidKeyError);
  });
});

describe("FileStorage reads", () => {
  beforeEach(async () => {
    await write("dir/photo.jpg", "0123456789");
  });

  it("head describes a file and is undefined for missing keys and folders", async () => {
    const info = await storage.head("dir/photo.jpg");
    expect(info).toMatchObject({ key: "dir/photo.jpg", size: 10 });
    expect(info?.contentType).toBeUndefined();
    expect(await storage.head("dir/nope.jpg")).toBeUndefined();
    expect(await storage.head("dir")).toBeUndefined();
    expect(await storage.head("dir/photo.jpg/x")).toBeUndefined();
  });

  it("getRange reads inclusive ranges and reads short at EOF", async () => {
    expect((await storage.getRange("dir/photo.jpg", 2, 4)).toString()).toBe("234");
    expect((await storage.getRange("dir/photo.jpg", 8, 1_000_000)).toString()).toBe("89");
    expect((await storage.getRange("dir/photo.jpg", 10, 20)).length).toBe(0);
    await expect(storage.getRange("dir/photo.jpg", 5, 4)).rejects.toThrow(RangeError);
    await expect(storage.getRange("dir/photo.jpg", -1, 4)).rejects.toThrow(RangeError);
    await expect(storage.getRange("dir/none.jpg", 0, 4)).rejects.toThrow(ObjectNotFoundError);
  });

  it("get returns the whole object, honours ifMatch and maxBytes", async () => {
    const info = await storage.head("dir/photo.jpg");
    const etag = info?.etag ?? "";
    expect((await storage.get("dir/photo.jpg")).toString()).toBe("0123456789");
    expect((await storage.get("dir/photo.jpg", { ifMatch: etag })).toString()).toBe("0123456789");
    expect((await storage.get("dir/photo.jpg", { ifMatch: `"${etag}"` })).length).toBe(10);
    await expect(storage.get("dir/photo.jpg", { ifMatch: "0-0-0" })).rejects.toThrow(PreconditionFailedError);
    expect((await storage.get("dir/photo.jpg", { maxBytes: 10 })).length).toBe(10);
    const tooBig = await rejection(storage.get("dir/photo.jpg", { maxBytes: 9 }));
    expect(tooBig).toBeInstanceOf(ObjectTooLargeError);
    expect(tooBig).toMatchObject({ size: 10, maxBytes: 9 });
    expect(tooBig.message).toContain(`file://${root}/dir/photo.jpg`);
    await expect(storage.get("dir")).rejects.toThrow(ObjectNotFoundError);
    await expect(storage.get("dir/none")).rejects.toThrow(ObjectNotFoundError);
  });

  it.each(["../outside", "/etc/passwd", "dir/../../x", "./dir/photo.jpg", "dir/", "dir//photo.jpg", ""])(
    "rejects the escaping or ambiguous key %j everywhere",
    async (key) => {
      await expect(storage.head(key)).rejects.toThrow(InvalidKeyError);
      await expect(storage.get(key)).rejects.toThrow(InvalidKeyError);
      await expect(storage.getRange(key, 0, 1)).rejects.toThrow(InvalidKeyError);
      await expect(storage.put(key, "x", { contentType: "text/plain" })).rejects.toThrow(InvalidKeyError);
      await expect(storage.delete(key)).rejects.toThrow(InvalidKeyError);
    },
  );
});

describe("FileStorage writes", () => {
  it("put creates parent folders and returns the ETag head reports", async () => {
    const { etag } = await storage.put("out/run-1/a.json", '{"a":1}', { contentType: "application/json" });
    expect(await readFile(path.join(root, "out/run-1/a.json"), "utf8")).toBe('{"a":1}');
    expect((await storage.head("out/run-1/a.json"))?.etag).toBe(etag);
    expect(await readdir(path.join(root, "out/run-1"))).toEqual(["a.json"]);
  });

  it("a rewrite of the same size changes the ETag", async () => {
    const first = await storage.put("k", Buffer.from("aaaa"), { contentType: "text/plain" });
    const second = await storage.put("k", Buffer.from("bbbb"), { contentType: "text/plain" });
    expect(second.etag).not.toBe(first.etag);
    expect((await storage.get("k")).toString()).toBe("bbbb");
  });

  it("put is atomic: concurrent readers see the old or the new object, never a mix", async () => {
    const size = 4 * 1024 * 1024;
    const versions = ["a", "b", "c", "d", "e", "f"].map((c) => Buffer.alloc(size, c));
    await storage.put("big.bin", versions[0] ?? Buffer.alloc(0), { contentType: "application/octet-stream" });
    let writing = true;
    const reads: Buffer[] = [];
    const reader = (async () => {
      while (writing) reads.push(await storage.get("big.bin"));
    })();
    for (const version of versions.slice(1)) {
      await storage.put("big.bin", version, { contentType: "application/octet-stream" });
    }
    writing = false;
    await reader;
    expect(reads.length).toBeGreaterThan(0);
    for (const body of reads) {
      expect(body.length).toBe(size);
      expect(body.every((byte) => byte === body[0])).toBe(true);
    }
    expect(await readdir(root)).toEqual(["big.bin"]);
  });

  it("ifNoneMatch '*' never overwrites, even when writers race", async () => {
    await storage.put("once.json", "first", { contentType: "application/json", ifNoneMatch: "*" });
    const error = await rejection(
      storage.put("once.json", "second", { contentType: "application/json", ifNoneMatch: "*" }),
    );
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect(error.message).toContain(`file://${root}/once.json`);
    expect((await storage.get("once.json")).toString()).toBe("first");

    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        storage.put("race.json", `writer ${i}`, { contentType: "application/json", ifNoneMatch: "*" }),
      ),
    );
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    }
    expect((await storage.get("race.json")).toString()).toBe(`writer ${won[0]}`);
    expect((await readdir(root)).sort()).toEqual(["once.json", "race.json"]);
  });

  it("ifMatch replaces only the expected version", async () => {
    const { etag } = await storage.put("m.json", "v1", { contentType: "application/json" });
    const next = await storage.put("m.json", "v2", { contentType: "application/json", ifMatch: `"${etag}"` });
    await expect(
      storage.put("m.json", "v3", { contentType: "application/json", ifMatch: etag }),
    ).rejects.toThrow(PreconditionFailedError);
    expect((await storage.get("m.json")).toString()).toBe("v2");
    await expect(
      storage.put("absent.json", "v1", { contentType: "application/json", ifMatch: next.etag }),
    ).rejects.toThrow(PreconditionFailedError);
    expect(await storage.head("absent.json")).toBeUndefined();
    await expect(
      storage.put("m.json", "v3", { contentType: "application/json", ifMatch: next.etag, ifNoneMatch: "*" }),
    ).rejects.toThrow(TypeError);
  });

  it("put reports a folder in the way instead of writing through it", async () => {
    await write("file.txt");
    await mkdir(path.join(root, "folder"));
    await expect(storage.put("file.txt/x", "x", { contentType: "text/plain" })).rejects.toThrow(
      /parent folder/,
    );
    await expect(storage.put("folder", "x", { contentType: "text/plain" })).rejects.toThrow(/is a folder/);
    expect((await readdir(root)).sort()).toEqual(["file.txt", "folder"]);
  });

  it("putStream writes a stream atomically", async () => {
    const lines = Array.from({ length: 100 }, (_, i) => Buffer.from(`line ${i}\n`));
    const { etag } = await storage.putStream("out/manifest.jsonl", Readable.from(lines), {
      contentType: "application/x-ndjson",
    });
    const text = (await storage.get("out/manifest.jsonl")).toString();
    expect(text.split("\n")).toHaveLength(101);
    expect((await storage.head("out/manifest.jsonl"))?.etag).toBe(etag);
  });

  it("a failing stream leaves neither the object nor a temp file", async () => {
    async function* failing() {
      yield Buffer.from("partial");
      await tick();
      throw new Error("source broke");
    }
    await expect(storage.putStream("s.bin", failing(), { contentType: "x/y" })).rejects.toThrow(
      /source broke/,
    );
    expect(await readdir(root)).toEqual([]);
  });

  it("delete removes objects and ignores missing keys", async () => {
    await write("d/x");
    await storage.delete("d/x");
    expect(await storage.head("d/x")).toBeUndefined();
    await storage.delete("d/x");
    await storage.delete("never/there");
    await storage.delete("d");
  });

  it("never writes outside the root", async () => {
    const inner = new FileStorage({ scheme: "file", path: path.join(root, "inner") });
    await expect(inner.put("../escaped", "x", { contentType: "text/plain" })).rejects.toThrow(
      InvalidKeyError,
    );
    expect(await readdir(root)).toEqual([]);
  });
});

describe("FileStorage.checkAccess", () => {
  it("passes for a readable directory", async () => {
    await storage.checkAccess();
    await storage.checkAccess({ write: true });
  });

  it("throws LocationNotFoundError for a missing directory or a file, naming it", async () => {
    const missing = new FileStorage({ scheme: "file", path: path.join(root, "missing") });
    const error = await rejection(missing.checkAccess());
    expect(error).toBeInstanceOf(LocationNotFoundError);
    expect(error.message).toBe(`file://${root}/missing: the directory does not exist`);
    await write("plain");
    const file = new FileStorage({ scheme: "file", path: path.join(root, "plain") });
    await expect(file.checkAccess()).rejects.toThrow(LocationNotFoundError);
  });

  it("accepts a missing output directory that can be created", async () => {
    const output = new FileStorage({ scheme: "file", path: path.join(root, "out/run-1") });
    await output.checkAccess({ write: true });
    await write("plain");
    const blocked = new FileStorage({ scheme: "file", path: path.join(root, "plain/out") });
    await expect(blocked.checkAccess({ write: true })).rejects.toThrow(/plain is not a directory/);
    await expect(blocked.checkAccess()).rejects.toThrow(LocationNotFoundError);
  });
});

/**
 * Permission bits do not stop root, and these tests run as root in CI: the checks then run in a
 * child process that keeps uid 0 but loses CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv), so
 * the owner's bits apply to it. Dropping to `nobody` instead fails where the Node binary lives under
 * /root (the toolchain cache), which `nobody` cannot execute.
 */
async function asUnprivileged(
  code: string,
): Promise<{ name?: string; code?: string; message?: string; keys?: string[] }> {
  const module = new URL("./file-storage.ts", import.meta.url).href;
  const program = `const { FileStorage } = await import(${JSON.stringify(module)});
const storage = new FileStorage({ scheme: "file", path: ${JSON.stringify(root)} });
try { const keys = []; ${code}; console.log(JSON.stringify({ keys })); }
catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
  const nodeArgs = ["--input-type=module", "-e", program];
  const [command, args] =
    process.getuid?.() === 0
      ? ["setpriv", ["--bounding-set", "-dac_override,-dac_read_search", process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(command, args, { cwd: tmpdir() }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
    ),
  );
  return JSON.parse(stdout) as { name?: string; code?: string; message?: string; keys?: string[] };
}

describe("FileStorage permissions", () => {
  beforeEach(async () => {
    await chmod(root, 0o755);
    await write("open/a.jpg");
    await write("shut/b.jpg");
    await chmod(path.join(root, "open"), 0o755);
    await chmod(path.join(root, "open/a.jpg"), 0o644);
    await chmod(path.join(root, "shut"), 0o000);
  });

  afterEach(async () => {
    await chmod(path.join(root, "shut"), 0o755);
  });

  it("list throws AccessDeniedError on an unreadable folder instead of skipping it", async () => {
    const seen = await asUnprivileged("for await (const info of storage.list()) keys.push(info.key)");
    expect(seen).toMatchObject({ name: AccessDeniedError.name, code: "ACCESS_DENIED" });
    expect(seen.message).toContain(`file://${root}/shut/`);
    const readable = await asUnprivileged(
      `for await (const info of storage.list({ prefix: "open/" })) keys.push(info.key)`,
    );
    expect(readable).toEqual({ keys: ["open/a.jpg"] });
  });

  it("checkAccess throws AccessDeniedError for an unreadable root and an unwritable output", async () => {
    // Owner bits: the child is the owner (as root without DAC capabilities, or as this user).
    await chmod(root, 0o311);
    const read = await asUnprivileged("await storage.checkAccess()");
    expect(read).toMatchObject({ name: AccessDeniedError.name });
    expect(read.message).toContain(`file://${root}`);
    await chmod(root, 0o755);
    expect(await asUnprivileged("await storage.checkAccess()")).toEqual({ keys: [] });
    await chmod(root, 0o555);
    const write = await asUnprivileged("await storage.checkAccess({ write: true })");
    expect(write).toMatchObject({ name: AccessDeniedError.name });
  });

  it("get of an unreadable file is AccessDeniedError, not ObjectNotFoundError", async () => {
    await chmod(path.join(root, "open/a.jpg"), 0o000);
    const seen = await asUnprivileged(`await storage.get("open/a.jpg")`);
    expect(seen).toMatchObject({ name: AccessDeniedError.name });
  });
});
