import { describe, expect, it } from "vitest";
import { manualClock } from "./clock.ts";
import { classifyFileUri, fileIdOf, ownHostsOf, prepareFileResolver } from "./resolve.ts";
import { FileStore } from "./store.ts";

const OWN = ["127.0.0.1:8787"];

describe("classifyFileUri", () => {
  it("reads a file id from files/<id> and from file uris on this emulator's or Google's host", () => {
    expect(classifyFileUri("files/abc123", OWN)).toEqual({ kind: "file", id: "abc123" });
    for (const uri of [
      "http://127.0.0.1:8787/v1beta/files/abc123",
      "http://127.0.0.1:8787/v1/files/abc123",
      "https://generativelanguage.googleapis.com/v1beta/files/abc123",
    ]) {
      expect(classifyFileUri(uri, OWN), uri).toEqual({ kind: "file", id: "abc123" });
    }
  });

  it("treats any other http(s) URL as one to fetch, even one shaped like a file uri", () => {
    const target = classifyFileUri("http://127.0.0.1:9000/v1beta/files/abc123?X-Amz-Signature=s", OWN);
    expect(target.kind).toBe("url");
    expect(classifyFileUri("https://bucket.s3.amazonaws.com/a.png", OWN).kind).toBe("url");
  });

  it("refuses other schemes and non-URLs, showing no query string", () => {
    expect(classifyFileUri("gs://bucket/a.png?token=secret", OWN)).toEqual({
      kind: "unsupported",
      shown: "gs://bucket/a.png",
    });
    expect(classifyFileUri("abc123", OWN)).toEqual({ kind: "unsupported", shown: "abc123" });
  });
});

describe("ownHostsOf", () => {
  it("keeps each host:port once and skips what is not a URL", () => {
    expect(ownHostsOf("http://a:1", "http://a:1", "", "http://b:2")).toEqual(["a:1", "b:2"]);
  });
});

describe("fileIdOf", () => {
  it("accepts stored-file names only", () => {
    expect(fileIdOf("files/xyz", OWN)).toBe("xyz");
    expect(() => fileIdOf("https://example.com/input.jsonl?sig=secret", OWN)).toThrow(
      "You do not have permission to access the File https://example.com/input.jsonl or it may not exist.",
    );
  });
});

describe("prepareFileResolver", () => {
  it("resolves stored files without fetching, and refuses URLs when fetching is off", async () => {
    const store = new FileStore(manualClock());
    const file = store.add("key", { mimeType: "image/png", bytes: Buffer.from("png"), source: "UPLOADED" });
    const body = {
      contents: [{ parts: [{ fileData: { fileUri: "https://example.invalid/a.png?sig=x" } }] }],
    };
    const resolve = await prepareFileResolver(body, {
      store,
      owner: "key",
      ownHosts: OWN,
      urlFetch: undefined,
    });
    expect(resolve({ fileUri: `files/${file.id}`, field: "f" })).toEqual({
      bytes: Buffer.from("png"),
      mimeType: "image/png",
    });
    expect(() => resolve({ fileUri: `files/${file.id}x`, field: "f" })).toThrow(/may not exist/);
    expect(() => resolve({ fileUri: "https://example.invalid/a.png?sig=x", field: "f" })).toThrow(
      "Invalid or unsupported file uri: https://example.invalid/a.png",
    );
  });
});
