import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Relative on purpose: @tessera/testing depends on this package, and a devDependency back would
// be a workspace cycle (turbo refuses those).
import type { TestBucket } from "../../testing/src/s3.ts";
import { useTestBucket } from "../../testing/src/s3.ts";
import type { ObjectInfo, Storage } from "../src/index.ts";
import {
  AccessDeniedError,
  InvalidKeyError,
  LocationNotFoundError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  PreconditionFailedError,
  openStorage,
  s3Client,
} from "../src/index.ts";

let bucket: TestBucket;
let client: S3Client;

beforeAll(async () => {
  bucket = await useTestBucket();
  client = s3Client(bucket.config);
});

afterAll(async () => {
  await bucket?.cleanup();
});

async function listAll(storage: Storage, opts?: Parameters<Storage["list"]>[0]): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of storage.list(opts)) out.push(info);
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

/** Counts the ListObjectsV2 requests the shared client sends while `run` runs. */
function countListRequests(run: () => Promise<void>): Promise<number> {
  return countRequests("ListObjectsV2Command", run);
}

/** Counts the requests of one command the shared client sends while `run` runs. */
async function countRequests(command: string, run: () => Promise<void>): Promise<number> {
  let count = 0;
  const name = `count-${randomBytes(4).toString("hex")}`;
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === command) count++;
      return next(args);
    },
    { step: "initialize", name },
  );
  try {
    await run();
  } finally {
    client.middlewareStack.remove(name);
  }
  return count;
}

const text = { contentType: "text/plain" };

describe("S3Storage.list", () => {
  it("streams 5 keys in pages of 2 with continuation tokens", async () => {
    const storage = bucket.storage("paged");
    for (const key of ["e", "a", "c", "b", "d"]) await storage.put(key, key, text);
    let infos: ObjectInfo[] = [];
    const requests = await countListRequests(async () => {
      infos = await listAll(storage, { pageSize: 2 });
    });
    expect(infos.map((i) => i.key)).toEqual(["a", "b", "c", "d", "e"]);
    expect(requests).toBe(3);
    expect(infos[0]).toMatchObject({ key: "a", size: 1 });
    expect(infos[0]?.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(infos[0]?.lastModified).toBeInstanceOf(Date);
  });

  it("lists nested keys relative to the root, the same for 'photos' and 'photos/'", async () => {
    const keys = [
      "a/b/2.jpg",
      "a/1.jpg",
      "a-c.jpg",
      "z.jpg",
      "my photo #1?.jpg",
      "\u{1F600}.jpg",
      "\uFF5E.jpg",
    ];
    for (const key of keys) await bucket.storage("nested/photos").put(key, key, text);
    // A sibling whose name starts with the prefix must not leak into the folder.
    await bucket.storage("nested").put("photos-old/x.jpg", "x", text);
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const plain = await listAll(bucket.storage("nested/photos"), { pageSize: 2 });
    const slashed = await listAll(openStorage(`s3://${bucket.bucket}/nested/photos/`, bucket.config));
    expect(plain.map((i) => i.key)).toEqual(expected);
    expect(slashed.map((i) => i.key)).toEqual(expected);
    expect(await bucket.storage("nested/photos").get("my photo #1?.jpg")).toEqual(
      Buffer.from("my photo #1?.jpg"),
    );
  });

  it("filters by a list prefix", async () => {
    const storage = bucket.storage("prefixed");
    for (const key of ["2024/01/a.jpg", "2024/02/b.jpg", "2024-notes.txt", "2025/c.jpg"])
      await storage.put(key, "x", text);
    expect((await listAll(storage, { prefix: "2024/" })).map((i) => i.key)).toEqual([
      "2024/01/a.jpg",
      "2024/02/b.jpg",
    ]);
    expect((await listAll(storage, { prefix: "2024", pageSize: 1 })).map((i) => i.key)).toEqual([
      "2024-notes.txt",
      "2024/01/a.jpg",
      "2024/02/b.jpg",
    ]);
    expect(await listAll(storage, { prefix: "2026/" })).toEqual([]);
  });

  it("stops fetching pages when the consumer stops or the signal aborts", async () => {
    const storage = bucket.storage("paged");
    const requests = await countListRequests(async () => {
      for await (const info of storage.list({ pageSize: 2 })) if (info.key === "a") break;
    });
    expect(requests).toBe(1);
    const controller = new AbortController();
    const error = await rejection(
      (async () => {
        for await (const _ of storage.list({ pageSize: 2, signal: controller.signal })) controller.abort();
      })(),
    );
    expect(error.name).toBe("AbortError");
  });
});

describe("S3Storage objects", () => {
  const storage = () => bucket.storage("objects");
  const body = Buffer.from("0123456789");

  it("put stores the content type and cache control; head reports them", async () => {
    const { etag } = await storage().put("img/a.jpg", body, {
      contentType: "image/jpeg",
      cacheControl: "no-cache",
    });
    expect(etag).toMatch(/^[0-9a-f]{32}$/);
    const info = await storage().head("img/a.jpg");
    expect(info).toMatchObject({ key: "img/a.jpg", size: 10, etag, contentType: "image/jpeg" });
    expect(info?.lastModified).toBeInstanceOf(Date);
    const raw = await client.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: "objects/img/a.jpg" }));
    expect(raw.ContentType).toBe("image/jpeg");
    expect(raw.CacheControl).toBe("no-cache");
    expect(await storage().head("img/missing.jpg")).toBeUndefined();
  });

  it("getRange reads inclusive ranges, short at EOF and empty past it", async () => {
    await storage().put("range.bin", body, { contentType: "application/octet-stream" });
    expect((await storage().getRange("range.bin", 2, 4)).toString()).toBe("234");
    expect((await storage().getRange("range.bin", 8, 65_535)).toString()).toBe("89");
    expect((await storage().getRange("range.bin", 10, 20)).length).toBe(0);
    await expect(storage().getRange("missing.bin", 0, 1)).rejects.toThrow(ObjectNotFoundError);
  });

  it("getRange signs its own GETs (fast path) and reads exactly what the SDK reads, whatever the key", async () => {
    const keys = ["a b+c.jpg", "ảnh/ß~_-.png", "it's (1)*!.jpg", "q?x=1&y#z%41", "deep//empty/seg", "=;,@$:"];
    const fast = openStorage(`s3://${bucket.bucket}/fast keys`, bucket.config);
    const sdk = openStorage(`s3://${bucket.bucket}/fast keys`, { ...bucket.config, fastRangeReads: false });
    const bytes = randomBytes(70_000);
    for (const key of keys) await fast.put(key, bytes, { contentType: "application/octet-stream" });
    await fast.getRange(keys[0]!, 0, 0); // presigns once to learn the bucket's address
    const sdkReads = await countRequests("GetObjectCommand", async () => {
      for (const key of keys) await fast.getRange(key, 0, 9);
    });
    expect(sdkReads).toBe(0);
    for (const key of keys) {
      for (const [start, end] of [
        [0, 0],
        [0, 65_535],
        [69_990, 80_000],
        [70_000, 70_100],
      ] as const) {
        const mine = await fast.getRange(key, start, end);
        expect(mine).toEqual(bytes.subarray(start, end + 1));
        expect(mine).toEqual(await sdk.getRange(key, start, end));
      }
    }
    await expect(fast.getRange("gone.jpg", 0, 1)).rejects.toThrow(ObjectNotFoundError);
    await expect(sdk.getRange("gone.jpg", 0, 1)).rejects.toThrow(ObjectNotFoundError);
  });

  it("getRange's fast path reports a bad secret and an unknown bucket like the SDK path, without the secret", async () => {
    const secretAccessKey = `not-the-secret-${randomBytes(4).toString("hex")}`;
    const wrongSecret = openStorage(`s3://${bucket.bucket}/objects`, {
      ...bucket.config,
      credentials: { accessKeyId: bucket.config.credentials?.accessKeyId ?? "", secretAccessKey },
      maxAttempts: 1,
    });
    const denied = await rejection(wrongSecret.getRange("range.bin", 0, 1));
    expect(denied).toBeInstanceOf(AccessDeniedError);
    expect(denied.message).toContain("SignatureDoesNotMatch");
    expect(denied.message).not.toContain(secretAccessKey);
    const missingBucket = openStorage(`s3://${bucket.bucket}-missing/x`, bucket.config);
    await expect(missingBucket.getRange("a.jpg", 0, 1)).rejects.toThrow(LocationNotFoundError);
  });

  it("get honours maxBytes and reports missing objects", async () => {
    await storage().put("max.bin", body, { contentType: "application/octet-stream" });
    expect(await storage().get("max.bin", { maxBytes: 10 })).toEqual(body);
    const error = await rejection(storage().get("max.bin", { maxBytes: 9 }));
    expect(error).toBeInstanceOf(ObjectTooLargeError);
    expect(error.message).toBe(
      `s3://${bucket.bucket}/objects/max.bin: object is 10 bytes, more than the 9 bytes allowed`,
    );
    const missing = await rejection(storage().get("nope.bin"));
    expect(missing).toBeInstanceOf(ObjectNotFoundError);
    expect(missing.message).toBe(`s3://${bucket.bucket}/objects/nope.bin: no such object`);
  });

  it("put with ifNoneMatch '*' never overwrites", async () => {
    await storage().put("once.json", "first", { contentType: "application/json", ifNoneMatch: "*" });
    const error = await rejection(
      storage().put("once.json", "second", { contentType: "application/json", ifNoneMatch: "*" }),
    );
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect(error.message).toContain(`s3://${bucket.bucket}/objects/once.json`);
    expect((await storage().get("once.json")).toString()).toBe("first");
  });

  it("put with ifMatch replaces only the expected version, quoted or not", async () => {
    const v1 = await storage().put("cas.json", "v1", { contentType: "application/json" });
    // Quoted input is the RGW trap: sent as is, it always fails with 412.
    const v2 = await storage().put("cas.json", "v2", {
      contentType: "application/json",
      ifMatch: `"${v1.etag}"`,
    });
    const v3 = await storage().put("cas.json", "v3", { contentType: "application/json", ifMatch: v2.etag });
    expect((await storage().get("cas.json")).toString()).toBe("v3");
    const stale = await rejection(
      storage().put("cas.json", "v4", { contentType: "application/json", ifMatch: v1.etag }),
    );
    expect(stale).toBeInstanceOf(PreconditionFailedError);
    expect((await storage().get("cas.json")).toString()).toBe("v3");
    const absent = await rejection(
      storage().put("absent.json", "v1", { contentType: "application/json", ifMatch: v3.etag }),
    );
    expect(absent).toBeInstanceOf(PreconditionFailedError);
    expect(await storage().head("absent.json")).toBeUndefined();
  });

  it("get with ifMatch", async () => {
    const { etag } = await storage().put("read-if.json", "v1", { contentType: "application/json" });
    expect((await storage().get("read-if.json", { ifMatch: etag })).toString()).toBe("v1");
    expect((await storage().get("read-if.json", { ifMatch: `"${etag}"` })).toString()).toBe("v1");
    await expect(
      storage().get("read-if.json", { ifMatch: "0123456789abcdef0123456789abcdef" }),
    ).rejects.toThrow(PreconditionFailedError);
  });

  it("delete removes an object and ignores a missing one", async () => {
    await storage().put("gone.txt", "x", text);
    await storage().delete("gone.txt");
    expect(await storage().head("gone.txt")).toBeUndefined();
    await storage().delete("gone.txt");
  });

  it("putStream uploads in parts and still returns the object's ETag", async () => {
    const size = 12 * 1024 * 1024 + 3; // two 8 MiB parts: a real multipart upload
    const data = randomBytes(size);
    const { etag } = await storage().putStream(
      "big.bin",
      Readable.from([data.subarray(0, 5), data.subarray(5)]),
      {
        contentType: "application/octet-stream",
      },
    );
    expect(etag).toMatch(/^[0-9a-f]{32}-2$/);
    const head = await storage().head("big.bin");
    expect(head).toMatchObject({ size, etag, contentType: "application/octet-stream" });
    expect((await storage().get("big.bin")).equals(data)).toBe(true);
  });

  it("rejects keys that could leave the prefix", async () => {
    await expect(storage().put("../escape", "x", text)).rejects.toThrow(InvalidKeyError);
    await expect(storage().get("a/./b")).rejects.toThrow(InvalidKeyError);
    expect(await listAll(bucket.storage(""), { prefix: "escape" })).toEqual([]);
  });
});

describe("S3Storage.checkAccess", () => {
  it("passes for an existing bucket and leaves no probe behind", async () => {
    const storage = bucket.storage("access");
    await storage.checkAccess();
    await storage.checkAccess({ write: true });
    expect(await listAll(storage)).toEqual([]);
  });

  it("throws LocationNotFoundError for an unknown bucket, from checkAccess and list", async () => {
    const storage = openStorage(`s3://${bucket.bucket}-missing/photos`, bucket.config);
    const error = await rejection(storage.checkAccess());
    expect(error).toBeInstanceOf(LocationNotFoundError);
    expect(error.message).toBe(
      `s3://${bucket.bucket}-missing/photos: the bucket does not exist at ${bucket.config.endpoint ?? ""}`,
    );
    await expect(listAll(storage)).rejects.toThrow(LocationNotFoundError);
    await expect(storage.get("x")).rejects.toThrow(LocationNotFoundError);
  });

  it("throws AccessDeniedError for unknown credentials, without leaking them", async () => {
    const secretAccessKey = `not-the-secret-${randomBytes(4).toString("hex")}`;
    const wrongKey = openStorage(`s3://${bucket.bucket}/photos`, {
      ...bucket.config,
      credentials: { accessKeyId: "tessera-unknown-key", secretAccessKey },
      maxAttempts: 1,
    });
    const unknownKey = await rejection(wrongKey.checkAccess());
    expect(unknownKey).toBeInstanceOf(AccessDeniedError);
    expect(unknownKey.message).toContain(`s3://${bucket.bucket}/photos: access denied`);
    expect(unknownKey.message).toContain("InvalidAccessKeyId");
    expect(unknownKey.message).not.toContain(secretAccessKey);

    const wrongSecret = openStorage(`s3://${bucket.bucket}/photos`, {
      ...bucket.config,
      credentials: { accessKeyId: bucket.config.credentials?.accessKeyId ?? "", secretAccessKey },
      maxAttempts: 1,
    });
    const badSignature = await rejection(wrongSecret.checkAccess());
    expect(badSignature).toBeInstanceOf(AccessDeniedError);
    expect(badSignature.message).toContain("SignatureDoesNotMatch");
    expect(badSignature.message).not.toContain(secretAccessKey);
  });
});
