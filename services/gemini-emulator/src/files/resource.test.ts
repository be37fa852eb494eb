import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { manualClock } from "./clock.ts";
import { fileResource } from "./resource.ts";
import { FileStore } from "./store.ts";

const BASE = "http://127.0.0.1:8787";

describe("fileResource", () => {
  it("writes the API's File: string size, RFC 3339 times, +48 h expiry, base64 of the hex sha256", () => {
    const clock = manualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const store = new FileStore(clock);
    const bytes = Buffer.from("hello");
    const file = store.add("key", {
      id: "abc",
      displayName: "Hi",
      mimeType: "text/plain",
      bytes,
      source: "UPLOADED",
    });
    const hex = createHash("sha256").update(bytes).digest("hex");
    expect(fileResource(file, store.stateOf(file), BASE)).toEqual({
      name: "files/abc",
      displayName: "Hi",
      mimeType: "text/plain",
      sizeBytes: "5",
      createTime: "2026-01-02T03:04:05.000Z",
      updateTime: "2026-01-02T03:04:05.000Z",
      expirationTime: "2026-01-04T03:04:05.000Z",
      sha256Hash: Buffer.from(hex, "utf8").toString("base64"),
      uri: "http://127.0.0.1:8787/v1beta/files/abc",
      state: "ACTIVE",
      source: "UPLOADED",
    });
  });

  it("gives generated files a downloadUri, and failed ones their error", () => {
    const store = new FileStore(manualClock());
    const generated = store.add("key", {
      mimeType: "application/jsonl",
      bytes: Buffer.from("{}"),
      source: "GENERATED",
    });
    expect(fileResource(generated, "ACTIVE", BASE).downloadUri).toBe(
      `${BASE}/download/v1beta/files/${generated.id}:download?alt=media`,
    );
    const failed = store.add("key", {
      mimeType: "image/png",
      bytes: Buffer.from("x"),
      source: "UPLOADED",
      problem: "torn",
    });
    const resource = fileResource(failed, store.stateOf(failed), BASE);
    expect(resource).toMatchObject({ state: "FAILED", error: { code: 3, message: "torn" } });
    expect(resource.downloadUri).toBeUndefined();
  });
});
