import { describe, expect, it } from "vitest";
import { StorageUriError } from "./errors.ts";
import { formatLocation, isUnder, joinKey, parseLocation } from "./location.ts";

describe("parseLocation", () => {
  it("parses s3 URIs and treats the prefix as a folder", () => {
    expect(parseLocation("s3://bucket")).toEqual({ scheme: "s3", bucket: "bucket", prefix: "" });
    expect(parseLocation("s3://bucket/")).toEqual({ scheme: "s3", bucket: "bucket", prefix: "" });
    expect(parseLocation("s3://bucket/photos")).toEqual(parseLocation("s3://bucket/photos/"));
    expect(parseLocation("s3://b.k-1/a/b/")).toEqual({ scheme: "s3", bucket: "b.k-1", prefix: "a/b" });
  });

  it("keeps s3 keys raw: no percent-decoding, '#' and '?' are key characters", () => {
    expect(parseLocation("s3://bucket/my%20photos/#1?x")).toEqual({
      scheme: "s3",
      bucket: "bucket",
      prefix: "my%20photos/#1?x",
    });
  });

  it("parses absolute file URIs, normalising and decoding the path", () => {
    expect(parseLocation("file:///data/photos/")).toEqual({ scheme: "file", path: "/data/photos" });
    expect(parseLocation("file:///data/my%20photos")).toEqual({ scheme: "file", path: "/data/my photos" });
    expect(parseLocation("file://localhost/data")).toEqual({ scheme: "file", path: "/data" });
    expect(parseLocation("file:///")).toEqual({ scheme: "file", path: "/" });
  });

  it.each([
    ["s3://", "bucket name is empty"],
    ["s3:///prefix", "bucket name is empty"],
    ["s3://bad bucket/x", "not a valid bucket name"],
    ["s3://bucket/a/../b", '".." segment'],
    ["gs://bucket/x", 'unsupported scheme "gs:"'],
    ["https://example.com/x", 'unsupported scheme "https:"'],
    ["file://photos/x", "must be absolute"],
    ["file:photos", "expected s3://bucket/prefix or file:///absolute/dir"],
    ["/abs/dir", "expected s3://bucket/prefix or file:///absolute/dir"],
    ["photos", "expected s3://bucket/prefix or file:///absolute/dir"],
    ["", "expected"],
  ])("rejects %j naming the URI", (uri, reason) => {
    let caught: unknown;
    try {
      parseLocation(uri);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StorageUriError);
    expect((caught as StorageUriError).uri).toBe(uri);
    expect((caught as Error).message).toContain(`"${uri}"`);
    expect((caught as Error).message).toContain(reason);
  });
});

describe("parseLocation of URL lists", () => {
  it("parses urls+file:// as a list file, formats it back, and is never under another location", () => {
    const list = parseLocation("urls+file:///data/lists/../photos.txt");
    expect(list).toEqual({ scheme: "urls", path: "/data/photos.txt" });
    expect(formatLocation(list)).toBe("urls+file:///data/photos.txt");
    expect(parseLocation(formatLocation(list))).toEqual(list);
    expect(formatLocation(list, "e.com/a.jpg")).toBe("urls+file:///data/photos.txt#e.com/a.jpg");
    expect(isUnder(list, parseLocation("file:///data"))).toBeUndefined();
    expect(() => parseLocation("urls+file://data/photos.txt")).toThrow(/absolute/);
    expect(() => parseLocation("urls+https://e.com/list.txt")).toThrow(/unsupported scheme "urls\+https:"/);
  });
});

describe("formatLocation", () => {
  it("round-trips through parseLocation", () => {
    for (const uri of ["s3://bucket/", "s3://bucket/a/b", "file:///data/my%20photos", "file:///"]) {
      expect(formatLocation(parseLocation(uri))).toBe(uri);
    }
    const odd = { scheme: "file", path: "/data/100%/#1?" } as const;
    expect(parseLocation(formatLocation(odd))).toEqual(odd);
  });

  it("appends keys", () => {
    expect(formatLocation(parseLocation("s3://b/photos/"), "x/y.jpg")).toBe("s3://b/photos/x/y.jpg");
    expect(formatLocation(parseLocation("s3://b"), "y.jpg")).toBe("s3://b/y.jpg");
    expect(formatLocation(parseLocation("file:///d"), "x/a b.jpg")).toBe("file:///d/x/a%20b.jpg");
    expect(formatLocation(parseLocation("file:///d"), "x/")).toBe("file:///d/x/");
  });
});

describe("joinKey", () => {
  it("joins with single slashes, skipping empty parts", () => {
    expect(joinKey("a", "b", "c.json")).toBe("a/b/c.json");
    expect(joinKey("a/", "/b/", "c")).toBe("a/b/c");
    expect(joinKey("", "a", "", "b")).toBe("a/b");
    expect(joinKey("/", "a")).toBe("a");
    expect(joinKey()).toBe("");
  });

  it("keeps a trailing slash on the last part only", () => {
    expect(joinKey("runs/", "r1/")).toBe("runs/r1/");
    expect(joinKey("runs", "r1", "")).toBe("runs/r1");
    expect(joinKey("runs//")).toBe("runs/");
  });
});

describe("isUnder", () => {
  const s3 = (uri: string) => parseLocation(uri);

  it("returns the folder prefix of an S3 location inside another", () => {
    expect(isUnder(s3("s3://b/photos"), s3("s3://b/photos/out/run-1/"))).toBe("out/run-1/");
    expect(isUnder(s3("s3://b"), s3("s3://b/out"))).toBe("out/");
    expect(isUnder(s3("s3://b/photos/"), s3("s3://b/photos"))).toBe("");
  });

  it("does not confuse a sibling sharing a name prefix", () => {
    expect(isUnder(s3("s3://b/photos"), s3("s3://b/photos-out"))).toBeUndefined();
    expect(isUnder(s3("s3://b/photos/out"), s3("s3://b/photos"))).toBeUndefined();
    expect(isUnder(s3("s3://b/photos"), s3("s3://other/photos/out"))).toBeUndefined();
  });

  it("works for file locations and never across schemes", () => {
    expect(isUnder(s3("file:///data/in"), s3("file:///data/in/out"))).toBe("out/");
    expect(isUnder(s3("file:///"), s3("file:///data"))).toBe("data/");
    expect(isUnder(s3("file:///data/in"), s3("file:///data/inx"))).toBeUndefined();
    expect(isUnder(s3("file:///data"), s3("s3://data/x"))).toBeUndefined();
  });
});
