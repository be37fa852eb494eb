import type { S3Client } from "@aws-sdk/client-s3";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

/** SigV4 refuses query-signed URLs valid for longer than seven days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

export function assertPresignExpiry(expiresInSeconds: number): void {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(
      `presignGet: expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}, got ${expiresInSeconds}`,
    );
  }
}

/**
 * Signs a GET of one object (callers check the expiry first, with assertPresignExpiry). The URL's query string is a bearer credential for as long as it
 * lives: pass it to whoever fetches the object, and log only `redactSignedUrl(url)`.
 */
export async function presignObjectGet(
  client: S3Client,
  bucket: string,
  objectKey: string,
  expiresInSeconds: number,
): Promise<string> {
  return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: objectKey }), {
    expiresIn: expiresInSeconds,
  });
}

/** Scheme, host and path only: what may appear in logs and messages. */
export function redactSignedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}
