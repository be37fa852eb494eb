import { describe, expect, it } from "vitest";
import { EmulatorApiError } from "../errors.ts";
import { manualClock } from "./clock.ts";
import { parsePageRequest } from "./paging.ts";
import { FileStore } from "./store.ts";

const HOUR = 60 * 60 * 1000;

function upload(
  store: FileStore,
  owner: string,
  size: number,
  extra: { id?: string; problem?: string } = {},
) {
  return store.add(owner, {
    mimeType: "image/png",
    bytes: Buffer.alloc(size, 7),
    source: "UPLOADED",
    ...extra,
  });
}

function errorOf(run: () => unknown): EmulatorApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof EmulatorApiError) return error;
    throw error;
  }
  throw new Error("expected an EmulatorApiError");
}

function page(query = "") {
  return parsePageRequest(new URLSearchParams(query), { defaultSize: 10, maxSize: 100 });
}

describe("FileStore", () => {
  it("goes PROCESSING -> ACTIVE after processingMs, or FAILED when the bytes had a problem", () => {
    const clock = manualClock();
    const store = new FileStore(clock, { processingMs: 500 });
    const good = upload(store, "key", 10);
    const bad = upload(store, "key", 10, { problem: "not a PNG" });
    expect([store.stateOf(good), store.stateOf(bad)]).toEqual(["PROCESSING", "PROCESSING"]);
    expect(errorOf(() => store.getActive("key", good.id)).body.error).toEqual({
      code: 400,
      status: "FAILED_PRECONDITION",
      message: `The File ${good.id} is not in an ACTIVE state and usage is not allowed.`,
      details: [],
    });
    clock.advance(500);
    expect([store.stateOf(good), store.stateOf(bad)]).toEqual(["ACTIVE", "FAILED"]);
    expect(store.getActive("key", good.id)).toBe(good);
    expect(errorOf(() => store.getActive("key", bad.id)).body.error.status).toBe("FAILED_PRECONDITION");
  });

  it("forgets files after ttlMs (48 h by default), and their bytes stop counting", () => {
    const clock = manualClock();
    const store = new FileStore(clock);
    const file = upload(store, "key", 100);
    expect(file.expiresAt - file.createTime).toBe(48 * HOUR);
    clock.advance(48 * HOUR - 1);
    expect(store.get("key", file.id)).toBe(file);
    clock.advance(1);
    expect(errorOf(() => store.get("key", file.id)).body.error).toMatchObject({
      code: 403,
      status: "PERMISSION_DENIED",
      message: `You do not have permission to access the File ${file.id} or it may not exist.`,
    });
    expect(store.usedBytes("key")).toBe(0);
    expect(store.totals()).toEqual({ count: 0, bytes: 0 });
  });

  it("shows each API key only its own files", () => {
    const store = new FileStore(manualClock());
    const file = upload(store, "alice", 10);
    expect(errorOf(() => store.get("bob", file.id)).code).toBe(403);
    expect(errorOf(() => store.delete("bob", file.id)).code).toBe(403);
    expect(store.list("bob", page()).items).toEqual([]);
    expect(store.list("alice", page()).items).toEqual([file]);
  });

  it("refuses a file over maxFileBytes with a 400 and storage over maxProjectBytes with the API's 429", () => {
    const store = new FileStore(manualClock(), { maxFileBytes: 100, maxProjectBytes: 250 });
    expect(errorOf(() => upload(store, "key", 101)).body.error).toMatchObject({
      code: 400,
      message: "File size exceeds the limit: 100 bytes.",
    });
    upload(store, "key", 100);
    upload(store, "key", 100);
    const quota = errorOf(() => upload(store, "key", 51));
    expect(quota.body.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
    expect(quota.body.error.details).toContainEqual({
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [
        {
          quotaMetric: "generativelanguage.googleapis.com/file_storage_bytes",
          quotaId: "FileStorageBytesPerProject",
          quotaValue: "250",
        },
      ],
    });
    // The quota is per key, and generated files (batch results) are never refused.
    expect(() => upload(store, "other", 100)).not.toThrow();
    expect(() =>
      store.add("key", { mimeType: "application/jsonl", bytes: Buffer.alloc(100), source: "GENERATED" }),
    ).not.toThrow();
    expect(store.usedBytes("key")).toBe(300);
  });

  it("takes client-chosen ids in the API's alphabet, once", () => {
    const store = new FileStore(manualClock());
    expect(upload(store, "key", 1, { id: "my-image-1" }).id).toBe("my-image-1");
    expect(errorOf(() => upload(store, "key", 1, { id: "my-image-1" })).body.error).toMatchObject({
      code: 409,
      status: "ALREADY_EXISTS",
    });
    for (const bad of ["-lead", "trail-", "Upper", "a".repeat(41), "under_score"]) {
      expect(errorOf(() => upload(store, "key", 1, { id: bad })).code, bad).toBe(400);
    }
  });

  it("deletes files: they are gone for get, use and listing", () => {
    const store = new FileStore(manualClock());
    const file = upload(store, "key", 1);
    store.delete("key", file.id);
    expect(errorOf(() => store.getActive("key", file.id)).code).toBe(403);
    expect(errorOf(() => store.delete("key", file.id)).code).toBe(403);
    expect(store.list("key", page()).items).toEqual([]);
  });

  it("lists newest first in pages whose tokens survive deletions", () => {
    const store = new FileStore(manualClock());
    const files = Array.from({ length: 5 }, () => upload(store, "key", 1));
    const first = store.list("key", page("pageSize=2"));
    expect(first.items.map((file) => file.id)).toEqual([files[4]!.id, files[3]!.id]);
    // Deleting a file already shown must not make the next page skip one.
    store.delete("key", files[4]!.id);
    const second = store.list("key", page(`pageSize=2&pageToken=${first.nextPageToken}`));
    expect(second.items.map((file) => file.id)).toEqual([files[2]!.id, files[1]!.id]);
    const last = store.list("key", page(`pageSize=2&pageToken=${second.nextPageToken}`));
    expect(last.items.map((file) => file.id)).toEqual([files[0]!.id]);
    expect(last.nextPageToken).toBeUndefined();
  });

  it("rejects limits that are not numbers >= 0", () => {
    expect(() => new FileStore(manualClock(), { maxFileBytes: -1 })).toThrow(/maxFileBytes/);
    expect(() => new FileStore(manualClock(), { ttlMs: Number.NaN })).toThrow(/ttlMs/);
  });
});

describe("parsePageRequest", () => {
  it("defaults, clamps to the maximum, and treats 0 as the default", () => {
    expect(page()).toEqual({ pageSize: 10, before: undefined });
    expect(page("pageSize=1000").pageSize).toBe(100);
    expect(page("pageSize=0").pageSize).toBe(10);
    expect(page("page_size=3").pageSize).toBe(3);
  });

  it("400s a negative or fractional size and a token it did not issue", () => {
    for (const query of ["pageSize=-1", "pageSize=2.5", "pageSize=ten", "pageToken=bogus"]) {
      expect(errorOf(() => page(query)).code, query).toBe(400);
    }
  });
});
