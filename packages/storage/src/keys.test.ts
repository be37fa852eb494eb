import { describe, expect, it } from "vitest";
import { InvalidKeyError } from "./errors.ts";
import { assertKey, assertListPrefix, compareKeys } from "./keys.ts";

const FILE = { allowEmptySegments: false };
const S3 = { allowEmptySegments: true };

describe("assertKey", () => {
  it("accepts ordinary relative keys", () => {
    expect(() => assertKey("a/b.jpg", "s3://b/", FILE)).not.toThrow();
    expect(() => assertKey("..hidden/x", "s3://b/", FILE)).not.toThrow();
  });

  it.each(["", "/abs", "a/../b", "..", "./a", "a/.", "dir/", "a\0b"])("rejects %j", (key) => {
    expect(() => assertKey(key, "file:///root", FILE)).toThrow(InvalidKeyError);
    expect(() => assertKey(key, "file:///root", S3)).toThrow(/file:\/\/\/root/);
  });

  it("allows empty segments on S3 only", () => {
    expect(() => assertKey("a//b", "s3://b/", S3)).not.toThrow();
    expect(() => assertKey("a//b", "file:///r", FILE)).toThrow(/empty segment/);
  });

  it("checks only the folder part of a list prefix", () => {
    expect(() => assertListPrefix("2024/img_", "x", FILE)).not.toThrow();
    expect(() => assertListPrefix("..", "x", FILE)).not.toThrow();
    expect(() => assertListPrefix("../", "x", FILE)).toThrow(InvalidKeyError);
    expect(() => assertListPrefix("/a", "x", FILE)).toThrow(InvalidKeyError);
  });
});

describe("compareKeys", () => {
  it("orders by UTF-8 bytes like S3", () => {
    const keys = ["a/b", "a-b", "\u{1F600}", "\uFF5E", "B", "a", "ab"];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    expect(byBytes).toEqual(["B", "a", "a-b", "a/b", "ab", "\uFF5E", "\u{1F600}"]);
  });
});
