import { afterEach, describe, expect, it } from "vitest";
import { closeS3Clients, endpointLabel, s3Client } from "./s3-client.ts";
import type { S3Config } from "./types.ts";

const rgw: S3Config = {
  endpoint: "http://127.0.0.1:7480",
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "id", secretAccessKey: "secret" },
};

afterEach(() => closeS3Clients());

describe("s3Client", () => {
  it("shares one client per configuration", () => {
    expect(s3Client(rgw)).toBe(
      s3Client({ ...rgw, credentials: { accessKeyId: "id", secretAccessKey: "secret" } }),
    );
    expect(s3Client(rgw)).not.toBe(s3Client({ ...rgw, endpoint: "http://127.0.0.1:7481" }));
    expect(s3Client(rgw)).not.toBe(s3Client({ ...rgw, region: "eu-west-1" }));
    expect(s3Client(rgw)).not.toBe(
      s3Client({ ...rgw, credentials: { accessKeyId: "other", secretAccessKey: "secret" } }),
    );
    // A rotated secret under the same key id must not reuse the client signing with the old one.
    expect(s3Client(rgw)).not.toBe(
      s3Client({ ...rgw, credentials: { accessKeyId: "id", secretAccessKey: "new" } }),
    );
  });

  it("configures S3-compatible endpoints for path style and required-only checksums", async () => {
    const client = s3Client(rgw);
    expect(client.config.forcePathStyle).toBe(true);
    expect(await client.config.requestChecksumCalculation()).toBe("WHEN_REQUIRED");
    expect(await client.config.responseChecksumValidation()).toBe("WHEN_REQUIRED");
    expect(await client.config.region()).toBe("us-east-1");
  });

  it("leaves the SDK's checksum defaults alone for AWS", async () => {
    const client = s3Client({ region: "eu-west-1", forcePathStyle: false, maxAttempts: 5 });
    expect(await client.config.requestChecksumCalculation()).toBe("WHEN_SUPPORTED");
    expect(await client.config.maxAttempts()).toBe(5);
  });
});

describe("endpointLabel", () => {
  it("drops user info and query strings", () => {
    expect(endpointLabel("http://user:pass@127.0.0.1:7480/?X-Amz-Signature=abc")).toBe(
      "http://127.0.0.1:7480",
    );
    expect(endpointLabel("https://s3.example.com/base")).toBe("https://s3.example.com/base");
    expect(endpointLabel(undefined)).toBeUndefined();
    expect(endpointLabel("not a url")).toBe("(invalid endpoint URL)");
  });
});
