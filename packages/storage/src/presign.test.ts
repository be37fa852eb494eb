import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { InvalidKeyError } from "./errors.ts";
import { FileStorage } from "./file-storage.ts";
import { MAX_PRESIGN_SECONDS, redactSignedUrl } from "./presign.ts";
import { S3Storage } from "./s3-storage.ts";

// Signing is local: no server is needed to check what the URL says.
const client = new S3Client({
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  forcePathStyle: true,
  credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "not-a-real-secret" },
});
const s3 = new S3Storage({ scheme: "s3", bucket: "photos", prefix: "2024" }, client);
const files = new FileStorage({ scheme: "file", path: "/srv/images" });

describe("presignGet", () => {
  it("signs a GET of the object under the location's prefix, valid for the asked time", async () => {
    const url = new URL(await s3.presignGet("trip/a b.jpg", 900));
    expect(`${url.origin}${url.pathname}`).toBe("http://127.0.0.1:9/photos/2024/trip/a%20b.jpg");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^AKIDTEST\//);
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives no URL for file:// storage, which nothing remote can fetch", async () => {
    await expect(files.presignGet("a.jpg", 900)).resolves.toBeUndefined();
  });

  it("refuses expiries SigV4 cannot sign and keys outside the location, on both storages", async () => {
    for (const storage of [s3, files]) {
      await expect(storage.presignGet("a.jpg", 0)).rejects.toThrow(RangeError);
      await expect(storage.presignGet("a.jpg", 1.5)).rejects.toThrow(RangeError);
      await expect(storage.presignGet("a.jpg", MAX_PRESIGN_SECONDS + 1)).rejects.toThrow(RangeError);
      await expect(storage.presignGet("../a.jpg", 60)).rejects.toThrow(InvalidKeyError);
    }
    await expect(s3.presignGet("a.jpg", MAX_PRESIGN_SECONDS)).resolves.toMatch(/X-Amz-Expires=604800/);
  });
});

describe("redactSignedUrl", () => {
  it("keeps scheme, host and path and drops the signature", async () => {
    const url = await s3.presignGet("a.jpg", 60);
    expect(redactSignedUrl(url)).toBe("http://127.0.0.1:9/photos/2024/a.jpg");
    expect(redactSignedUrl("not a url")).toBe("(invalid URL)");
  });
});
