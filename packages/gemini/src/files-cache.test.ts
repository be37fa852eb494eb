import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { FilesCache, FilesQuotaError, contentHash, filesKeys } from "./files-cache.ts";

describe("contentHash", () => {
  it("is the sha256 of the bytes, so equal images share one upload whatever their key", () => {
    const bytes = Buffer.from("same pixels");
    expect(contentHash(bytes)).toBe(createHash("sha256").update("same pixels").digest("hex"));
    expect(contentHash(Buffer.from("same pixels"))).toBe(contentHash(bytes));
    expect(contentHash(Buffer.from("other pixels"))).not.toBe(contentHash(bytes));
  });
});

describe("filesKeys", () => {
  it("keeps every key under the prefix, the run's set beside the run's other keys", () => {
    const keys = filesKeys("tessera");
    expect([
      keys.entry("h"),
      keys.lock("h"),
      keys.runs("h"),
      keys.kept("h"),
      keys.runFiles("r1"),
      keys.stored,
      keys.storedBytes,
      keys.usedBytes,
    ]).toEqual([
      "tessera:files:entry:h",
      "tessera:files:lock:h",
      "tessera:files:runs:h",
      "tessera:files:kept:h",
      "tessera:run:r1:files",
      "tessera:files:stored",
      "tessera:files:stored-bytes",
      "tessera:files:bytes",
    ]);
  });
});

describe("FilesQuotaError", () => {
  it("is transient and says what did not fit", () => {
    const ours = new FilesQuotaError("tessera", 300, { usedBytes: 900, quotaBytes: 1000 });
    expect(ours).toMatchObject({
      errorClass: "transient",
      source: "tessera",
      usedBytes: 900,
      quotaBytes: 1000,
    });
    expect(ours.message).toBe("Files API storage quota: 900 of 1000 bytes in use; 300 more bytes do not fit");
    expect(new FilesQuotaError("gemini", 5).message).toMatch(/the API refused the upload/);
  });
});

describe("FilesCache options", () => {
  const base = { redis: {} as Redis, prefix: "p", client: { files: {} as never } };
  it("refuses limits that cannot work", () => {
    expect(() => new FilesCache({ ...base, quotaBytes: 0 })).toThrow(/quotaBytes must be a number > 0/);
    expect(() => new FilesCache({ ...base, lockTtlMs: Number.NaN })).toThrow(/lockTtlMs/);
    expect(() => new FilesCache({ ...base, reuseMarginMs: -1 })).toThrow(
      /reuseMarginMs must be a number >= 0/,
    );
    expect(new FilesCache({ ...base, reuseMarginMs: 0 }).quotaBytes).toBe(19 * 1024 ** 3);
  });
});
