import { createHash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import type { S3Config } from "./types.ts";

// One client per distinct configuration: a client owns a keep-alive socket pool, and a run opens
// a Storage per location, often several on the same server. The key covers everything that goes
// into the client (a rotated secret must not reuse the old client); the secret only as a hash.
const clients = new Map<string, S3Client>();

export function s3Client(config: S3Config): S3Client {
  const key = cacheKey(config);
  let client = clients.get(key);
  if (client === undefined) {
    client = createClient(config);
    clients.set(key, client);
  }
  return client;
}

/** Closes every cached client's sockets, for a clean process exit. */
export function closeS3Clients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}

function createClient(config: S3Config): S3Client {
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint === undefined
      ? {}
      : {
          endpoint: config.endpoint,
          // S3-compatible servers (RGW 16 among them) answer 411 MissingContentLength to the
          // SDK's default aws-chunked uploads with checksum trailers and do not validate
          // x-amz-checksum-*: send checksums only where the API requires one.
          requestChecksumCalculation: "WHEN_REQUIRED" as const,
          responseChecksumValidation: "WHEN_REQUIRED" as const,
        }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
  });
}

function cacheKey(config: S3Config): string {
  const secret = config.credentials
    ? createHash("sha256")
        .update(`${config.credentials.secretAccessKey}\0${config.credentials.sessionToken ?? ""}`)
        .digest("hex")
    : "";
  return JSON.stringify([
    config.endpoint ?? "",
    config.region,
    config.credentials?.accessKeyId ?? "",
    secret,
    config.forcePathStyle,
    config.maxAttempts ?? 0,
  ]);
}

/** The endpoint as shown in messages: user info (credentials) and query strings removed. */
export function endpointLabel(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  } catch {
    return "(invalid endpoint URL)";
  }
}
