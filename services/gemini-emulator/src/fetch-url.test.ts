import { describe, expect, it } from "vitest";
import { redactUrl } from "./fetch-url.ts";

describe("redactUrl", () => {
  it("keeps scheme, host and path, dropping user info, query and fragment", () => {
    expect(
      redactUrl(new URL("https://user:pw@bucket.s3.example.com:8443/a/b%20c.png?X-Amz-Signature=s#frag")),
    ).toBe("https://bucket.s3.example.com:8443/a/b%20c.png");
  });
});
