import { createHash, createHmac } from "node:crypto";

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface SignableRequest {
  method: string;
  /** Host header as sent: host, or host:port for a non-default port. */
  host: string;
  /** The path exactly as sent, already URI-encoded (S3 signs it as is, without normalising). */
  path: string;
  /** Headers to sign besides host and the x-amz-* ones added here; names in lower case. */
  headers: Record<string, string>;
}

/** S3 accepts this in place of the body's SHA-256 on any request; a GET has no body anyway. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** "20130524T000000Z": the x-amz-date form of an instant. */
export function amzDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/**
 * Signs a request with AWS Signature Version 4 in the Authorization header, for requests without
 * a query string (what ranged GETs need). The derived key only changes daily, so it is kept
 * per credentials and scope: signing then costs two SHA-256s and one HMAC.
 */
export class SigV4Signer {
  readonly #region: string;
  readonly #service: string;
  #cached: { day: string; accessKeyId: string; secret: string; key: Buffer } | undefined;

  constructor(region: string, service: string) {
    this.#region = region;
    this.#service = service;
  }

  /** The headers to send: `request.headers` plus host, x-amz-date, x-amz-content-sha256, authorization. */
  sign(request: SignableRequest, credentials: SigningCredentials, at: Date): Record<string, string> {
    const date = amzDate(at);
    const day = date.slice(0, 8);
    const headers: Record<string, string> = {
      ...request.headers,
      host: request.host,
      "x-amz-content-sha256": request.headers["x-amz-content-sha256"] ?? UNSIGNED_PAYLOAD,
      "x-amz-date": date,
    };
    if (credentials.sessionToken !== undefined) headers["x-amz-security-token"] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(";");
    const canonical = [
      request.method,
      request.path,
      "",
      ...names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, " ")}`),
      "",
      signedHeaders,
      headers["x-amz-content-sha256"],
    ].join("\n");
    const scope = `${day}/${this.#region}/${this.#service}/aws4_request`;
    const toSign = [
      "AWS4-HMAC-SHA256",
      date,
      scope,
      createHash("sha256").update(canonical).digest("hex"),
    ].join("\n");
    const signature = createHmac("sha256", this.#signingKey(credentials, day)).update(toSign).digest("hex");
    headers["authorization"] =
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  #signingKey(credentials: SigningCredentials, day: string): Buffer {
    const cached = this.#cached;
    // Refreshed credentials (a new session) or a new day need a new key.
    if (
      cached?.day === day &&
      cached.accessKeyId === credentials.accessKeyId &&
      cached.secret === credentials.secretAccessKey
    )
      return cached.key;
    const key = hmac(
      hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), this.#region), this.#service),
      "aws4_request",
    );
    this.#cached = { day, accessKeyId: credentials.accessKeyId, secret: credentials.secretAccessKey, key };
    return key;
  }
}

/**
 * An object key as an S3 path: each "/"-separated segment percent-encoded (RFC 3986 unreserved
 * characters kept), the slashes kept, exactly as the SDK sends keys.
 */
export function encodeKeyPath(key: string): string {
  return key
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");
}
