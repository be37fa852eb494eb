import { describe, expect, it } from "vitest";
import { findSecrets } from "./secrets.ts";

const SECRETS = { apiKey: "AIzaMarker-0123456789abcdef", s3Secret: "s3-secret/with+chars=" };

// A SigV4 pre-signed URL as @aws-sdk/s3-request-presigner writes it.
const SIGNED =
  "http://127.0.0.1:7480/b/k.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-Signature=abc123&X-Amz-SignedHeaders=host";

describe("findSecrets (the secret-scan test's detector)", () => {
  it("finds a planted secret verbatim, percent-encoded and base64-encoded", () => {
    expect(findSecrets("log", `key=${SECRETS.apiKey} ok`, SECRETS)).toEqual([
      { where: "log", what: "apiKey" },
    ]);
    expect(findSecrets("log", `u?k=${encodeURIComponent(SECRETS.s3Secret)}`, SECRETS)).toEqual([
      { where: "log", what: "s3Secret" },
    ]);
    const b64 = Buffer.from(SECRETS.apiKey).toString("base64");
    expect(findSecrets("redis", `{"auth":"${b64}"}`, SECRETS).map((f) => f.what)).toEqual(["apiKey"]);
  });

  it("finds a pre-signed URL's query, also escaped inside JSON, but not the redacted URL", () => {
    expect(findSecrets("manifest", JSON.stringify({ url: SIGNED }), SECRETS).map((f) => f.what)).toEqual([
      "signed URL query (X-Amz-Credential=)",
    ]);
    expect(findSecrets("log", encodeURIComponent(SIGNED), SECRETS)).toHaveLength(1);
    expect(findSecrets("log", "http://127.0.0.1:7480/b/k.png", SECRETS)).toEqual([]);
  });

  it("passes clean text and refuses secrets too short to mean anything", () => {
    expect(findSecrets("log", '{"level":"debug","msg":"annotated","key":"a.png"}', SECRETS)).toEqual([]);
    expect(() => findSecrets("log", "x", { short: "abc" })).toThrow(/too short/);
  });
});
