import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BucketLocationConstraint, S3Client } from "@aws-sdk/client-s3";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
} from "@aws-sdk/client-s3";
import type { S3Config, Storage } from "@tessera/storage";
import { openStorage, parseLocation, s3Client } from "@tessera/storage";

export interface TestBucket {
  bucket: string;
  config: S3Config;
  /** A Storage rooted at s3://<bucket>/<prefix>. */
  storage(prefix?: string): Storage;
  /** Deletes every object, every unfinished multipart upload and the bucket; safe to call twice. */
  cleanup(): Promise<void>;
}

const ENV_NAMES = [
  "S3_ENDPOINT",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_REGION",
  "S3_FORCE_PATH_STYLE",
];
// rgw.sh waits up to 180 s for its lock (parallel test files) plus 60 s per start phase.
const START_TIMEOUT_MS = 300_000;

/**
 * A fresh, uniquely named bucket on the test S3 server. The server comes from S3_ENDPOINT (and
 * AWS_ACCESS_KEY_ID etc.); without it, `infra/s3/rgw.sh start` brings up the loopback RGW (a no-op
 * when it already runs) and its exports are applied to process.env, as `eval` would in a shell.
 * The gateway is left running for the next test file: stop it with `infra/s3/rgw.sh stop`.
 */
export async function useTestBucket(): Promise<TestBucket> {
  const config = await sharedConfig();
  const client = s3Client(config);
  const bucket = `tessera-test-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  await client.send(
    new CreateBucketCommand({
      Bucket: bucket,
      // AWS wants the region spelled out outside us-east-1; S3-compatible servers (RGW) reject
      // a constraint that is not one of their zone groups, and need none.
      ...(config.endpoint === undefined && config.region !== "us-east-1"
        ? { CreateBucketConfiguration: { LocationConstraint: config.region as BucketLocationConstraint } }
        : {}),
    }),
  );
  return {
    bucket,
    config,
    storage: (prefix = "") => openStorage(parseLocation(`s3://${bucket}/${prefix}`), config),
    cleanup: () => deleteBucket(client, bucket),
  };
}

let pending: Promise<S3Config> | undefined;

function sharedConfig(): Promise<S3Config> {
  pending ??= (async () => {
    if (process.env["S3_ENDPOINT"] === undefined || process.env["S3_ENDPOINT"] === "") {
      Object.assign(process.env, await startTestServer(process.env));
    }
    return s3ConfigFromEnv(process.env);
  })();
  // A failed start is not cached: the next test file gets a fresh attempt and error message.
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

/**
 * The S3 config for tests: from `env` when it names S3_ENDPOINT, else from the exports of
 * `infra/s3/rgw.sh start` run with `env` (so TESSERA_RGW_DIR, TESSERA_S3_PORT, ... apply).
 */
export async function testS3Config(env: NodeJS.ProcessEnv = process.env): Promise<S3Config> {
  if (env["S3_ENDPOINT"] !== undefined && env["S3_ENDPOINT"] !== "") return s3ConfigFromEnv(env);
  return s3ConfigFromEnv({ ...env, ...(await startTestServer(env)) });
}

export function s3ConfigFromEnv(env: NodeJS.ProcessEnv): S3Config {
  const endpoint = env["S3_ENDPOINT"] || undefined;
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  const sessionToken = env["AWS_SESSION_TOKEN"];
  const pathStyle = (env["S3_FORCE_PATH_STYLE"] ?? "").toLowerCase();
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    region: env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || "us-east-1",
    // Test servers (RGW, MinIO) only do path-style; AWS is the exception, and needs no endpoint.
    forcePathStyle: pathStyle === "" ? endpoint !== undefined : pathStyle === "true" || pathStyle === "1",
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  };
}

/** Runs `rgw.sh start` and lets bash evaluate its exports, so quoting is exactly the shell's. */
async function startTestServer(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const script = path.join(repoRoot(), "infra", "s3", "rgw.sh");
  if (!existsSync(script)) throw new Error(`cannot start the test S3 server: ${script} is missing`);
  const program = `set -euo pipefail
exports=$(bash "$1" start)
eval "$exports"
shift
for name in "$@"; do printf '%s=%s\\0' "$name" "\${!name-}"; done`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      "bash",
      ["-c", program, "bash", script, ...ENV_NAMES],
      { env, timeout: START_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, out, err) => {
        if (error) {
          const tail = err.trim().split("\n").slice(-30).join("\n");
          reject(new Error(`infra/s3/rgw.sh start failed (${error.message.split("\n")[0]}):\n${tail}`));
        } else {
          resolve(out);
        }
      },
    );
  });
  const values: Record<string, string> = {};
  for (const pair of stdout.split("\0")) {
    const eq = pair.indexOf("=");
    if (eq > 0) values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (!values["S3_ENDPOINT"]) throw new Error("infra/s3/rgw.sh start printed no S3_ENDPOINT export");
  return values;
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "pnpm-workspace.yaml"))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error("cannot find the repository root (pnpm-workspace.yaml) above packages/testing");
    dir = parent;
  }
  return dir;
}

async function deleteBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    // Unfinished multipart uploads keep a bucket "not empty" on RGW.
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
      }
      if (page.IsTruncated !== true) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const objects = (page.Contents ?? []).flatMap((object) =>
        object.Key === undefined ? [] : [{ Key: object.Key }],
      );
      if (objects.length > 0) {
        const result = await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0];
          throw new Error(
            `cleanup of bucket ${bucket}: ${failed.length} objects not deleted (first: ${first?.Key}: ${first?.Code} ${first?.Message})`,
          );
        }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (error instanceof Error && error.name === "NoSuchBucket") return;
    throw error;
  }
}

/**
 * Denies `actions` ("s3:GetObject", "s3:PutObject") on keys matching `keyPattern` (a policy
 * resource pattern such as "src/a.png" or "*") to everyone, the bucket's owner included: access
 * denied on demand. Remove it with clearBucketPolicy before cleanup.
 */
export async function denyOnBucket(bucket: TestBucket, actions: string[], keyPattern: string): Promise<void> {
  const statement = {
    Effect: "Deny",
    Principal: "*",
    Action: actions,
    Resource: [`arn:aws:s3:::${bucket.bucket}/${keyPattern}`],
  };
  await s3Client(bucket.config).send(
    new PutBucketPolicyCommand({
      Bucket: bucket.bucket,
      Policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
    }),
  );
}

export async function clearBucketPolicy(bucket: TestBucket): Promise<void> {
  await s3Client(bucket.config).send(new DeleteBucketPolicyCommand({ Bucket: bucket.bucket }));
}
