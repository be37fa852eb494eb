import { describe, expect, it } from "vitest";
import { StorageUriError } from "./errors.ts";
import { assertKey } from "./keys.ts";
import { parseUrlList, redactUrl, urlKey } from "./url-list.ts";

const key = (url: string) => urlKey(new URL(url));

describe("urlKey", () => {
  it("is host then path, with the port kept apart", () => {
    expect(key("https://img.example.com/a/b/cat.jpg")).toBe("img.example.com/a/b/cat.jpg");
    expect(key("http://127.0.0.1:8080/cat.png")).toBe("127.0.0.1_8080/cat.png");
    expect(key("http://[::1]:81/x.png")).toBe("__1_81/x.png");
    expect(key("https://example.com/")).toBe("example.com/index");
  });

  it("never holds the query: a hash of it goes before the extension", () => {
    const signed = key(
      "https://b.example.com/p/cat.jpg?X-Amz-Signature=deadbeefsecret&X-Amz-Credential=AKIA",
    );
    expect(signed).toMatch(/^b\.example\.com\/p\/cat~q[0-9a-f]{12}\.jpg$/);
    expect(signed).not.toMatch(/deadbeef|AKIA|Signature/);
    expect(key("https://b.example.com/p/cat.jpg?sig=2")).not.toBe(
      key("https://b.example.com/p/cat.jpg?sig=1"),
    );
    expect(key("https://b.example.com/img?id=3")).toMatch(/^b\.example\.com\/img~q[0-9a-f]{12}$/);
  });

  it.each([
    "https://e.com/../../etc/passwd",
    "https://e.com/%2e%2e/%2E%2E/x",
    "https://e.com/a/%2e/b",
    "https://e.com/a%2f..%2f..%2fb",
    "https://e.com/a//b/",
    "https://e.com/..%00/x",
    "https://e.com/" + "a".repeat(3000),
    "https://e.com/caf%C3%A9%20au%20lait.jpg",
    "https://e.com/%ZZ/x.jpg",
  ])("URL %# gives a key that stays under the prefix", (url) => {
    const k = key(url);
    expect(() => assertKey(k, "test", { allowEmptySegments: false })).not.toThrow();
    expect(k.length).toBeLessThan(700);
    expect(k.split("/").every((s) => /^[A-Za-z0-9._~-]+$/.test(s) && !/^\.+$/.test(s))).toBe(true);
  });
});

describe("parseUrlList", () => {
  it("skips blanks, comments and repeats, orders by key, keeps colliding URLs apart", () => {
    const entries = parseUrlList(
      [
        "# photos",
        "https://e.com/b.jpg",
        "",
        "  http://e.com/a.jpg  ",
        "https://e.com/a.jpg",
        "https://e.com/b.jpg",
        "https://e.com/b.jpg#fragment",
      ].join("\n"),
      "list",
    );
    expect(entries.map((e) => e.key)).toEqual([
      "e.com/a.jpg",
      expect.stringMatching(/^e\.com\/a\.jpg~u[0-9a-f]{12}$/),
      "e.com/b.jpg",
    ]);
    expect(entries[0]!.url.href).toBe("http://e.com/a.jpg");
  });

  it("names the bad line without echoing it", () => {
    expect(() => parseUrlList("https://e.com/a.jpg\nftp://e.com/x?token=secret", "list.txt")).toThrow(
      StorageUriError,
    );
    expect(() => parseUrlList("https://e.com/a.jpg\nftp://e.com/x?token=secret", "list.txt")).toThrow(
      /list\.txt line 2.*unsupported scheme "ftp:"/,
    );
    expect(() => parseUrlList("not a url?token=secret", "l")).toThrow(/^(?!.*secret).*l line 1": not a URL/);
    expect(() => parseUrlList("https://u:pw@e.com/x", "l")).toThrow(/credentials/);
  });
});

describe("redactUrl", () => {
  it("keeps scheme, host and path; the query becomes a hash", () => {
    expect(redactUrl(new URL("https://e.com:8443/a/b.jpg"))).toBe("https://e.com:8443/a/b.jpg");
    const redacted = redactUrl(new URL("https://e.com/a.jpg?X-Amz-Signature=abc123"));
    expect(redacted).toMatch(/^https:\/\/e\.com\/a\.jpg\?sha256=[0-9a-f]{12}$/);
    expect(redacted).not.toContain("abc123");
  });
});
