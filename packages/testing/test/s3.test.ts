import { randomBytes } from "node:crypto";
import {
  CreateMultipartUploadCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { s3Client } from "@tessera/storage";
import { describe, expect, it } from "vitest";
import { s3ConfigFromEnv, testS3Config, useTestBucket } from "../src/s3.ts";

async function bucketExists(bucket: string, client: ReturnType<typeof s3Client>): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return false;
    throw error;
  }
}

describe("useTestBucket", () => {
  it("creates a fresh bucket per call and cleanup removes objects (past one listing page), uploads and the bucket", async () => {
    const first = await useTestBucket();
    const second = await useTestBucket();
    const client = s3Client(first.config);
    try {
      expect(first.bucket).toMatch(/^tessera-test-[a-z0-9-]+$/);
      expect(first.bucket.length).toBeLessThanOrEqual(63);
      expect(second.bucket).not.toBe(first.bucket);
      expect(await bucketExists(first.bucket, client)).toBe(true);

      // 1,005 keys: more than the 1,000 a single listing (and a single DeleteObjects) can hold.
      const keys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(4, "0")}`);
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(
          keys
            .slice(i, i + 25)
            .map((key) =>
              client.send(new PutObjectCommand({ Bucket: first.bucket, Key: key, Body: Buffer.from(key) })),
            ),
        );
      }
      await client.send(new CreateMultipartUploadCommand({ Bucket: first.bucket, Key: "unfinished" }));
      const storage = first.storage("k/");
      expect(storage.describe("0001")).toBe(`s3://${first.bucket}/k/0001`);
      expect((await storage.get("0001")).toString()).toBe("k/0001");

      await first.cleanup();
      expect(await bucketExists(first.bucket, client)).toBe(false);
      await first.cleanup(); // already gone: still fine
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
    expect(await bucketExists(second.bucket, client)).toBe(false);
  });
});

describe("testS3Config", () => {
  it("starts (or finds) the loopback RGW through infra/s3/rgw.sh when S3_ENDPOINT is unset", async () => {
    const env = { ...process.env };
    delete env["S3_ENDPOINT"];
    delete env["AWS_ACCESS_KEY_ID"];
    delete env["AWS_SECRET_ACCESS_KEY"];
    const config = await testS3Config(env);
    expect(config.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(config.forcePathStyle).toBe(true);
    expect(config.credentials?.accessKeyId).toBeTruthy();
    const buckets = await s3Client(config).send(new ListBucketsCommand({}));
    expect(buckets.$metadata.httpStatusCode).toBe(200);
  });
});

describe("s3ConfigFromEnv", () => {
  it("reads the variables rgw.sh exports", () => {
    const secret = randomBytes(8).toString("hex");
    expect(
      s3ConfigFromEnv({
        S3_ENDPOINT: "http://127.0.0.1:7480",
        AWS_ACCESS_KEY_ID: "id",
        AWS_SECRET_ACCESS_KEY: secret,
        AWS_REGION: "eu-west-1",
        S3_FORCE_PATH_STYLE: "true",
      }),
    ).toEqual({
      endpoint: "http://127.0.0.1:7480",
      region: "eu-west-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "id", secretAccessKey: secret },
    });
  });

  it("defaults to path style for custom endpoints and virtual hosts for AWS", () => {
    expect(s3ConfigFromEnv({ S3_ENDPOINT: "http://localhost:9000" })).toEqual({
      endpoint: "http://localhost:9000",
      region: "us-east-1",
      forcePathStyle: true,
    });
    expect(s3ConfigFromEnv({ AWS_DEFAULT_REGION: "eu-west-1", S3_FORCE_PATH_STYLE: "0" })).toEqual({
      region: "eu-west-1",
      forcePathStyle: false,
    });
  });
});
