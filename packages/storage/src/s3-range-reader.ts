import http from "node:http";
import https from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import { presignObjectGet } from "./presign.ts";
import { encodeKeyPath, SigV4Signer, type SigningCredentials } from "./sigv4.ts";

/**
 * Ranged GETs of small header spans without the SDK: a scan reads one or two header spans of every
 * object, and the SDK's middleware stack costs about 1.2 ms of CPU per such request (profiled:
 * endpoint rules, schema serde, retry and checksum middleware), more than the ingest can spend per
 * object. This path signs (SigV4, header auth) and sends the request over a keep-alive pool, with
 * the SDK still deciding where requests go and with which credentials:
 * - the address comes from one URL the SDK presigns for the bucket, so endpoint rules (virtual
 *   hosts, dotted buckets, FIPS, dual-stack, custom endpoints) stay the SDK's;
 * - the signing region and service come from that URL's credential scope;
 * - credentials come from the client's own provider, which caches and refreshes them.
 * Where the SDK would sign with anything but plain SigV4 (S3 Express, multi-region access points),
 * `open` returns undefined and the caller keeps using the SDK.
 */
export class S3RangeReader {
  readonly #base: URL;
  /** The URL path up to the object key, e.g. "/bucket/" (path style) or "/" (virtual host). */
  readonly #basePath: string;
  readonly #signer: SigV4Signer;
  readonly #credentials: () => Promise<SigningCredentials>;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  /** Server clock minus ours, learnt from a RequestTimeTooSkewed answer (as the SDK does). */
  #skewMs = 0;

  private constructor(
    base: URL,
    region: string,
    service: string,
    client: S3Client,
    opts: RangeReaderOptions,
  ) {
    this.#base = base;
    this.#basePath = base.pathname;
    this.#signer = new SigV4Signer(region, service);
    this.#credentials = client.config.credentials as () => Promise<SigningCredentials>;
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 128, scheduling: "lifo" as const };
    this.#agent = base.protocol === "https:" ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#request = base.protocol === "https:" ? https.request : http.request;
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /**
   * Learns the bucket's address and signing scope from one presigned URL. Undefined when the SDK
   * would not sign this bucket's requests with plain SigV4, or cannot sign at all (no credentials):
   * the SDK path then runs and reports that itself.
   */
  static async open(
    client: S3Client,
    bucket: string,
    opts: RangeReaderOptions = {},
  ): Promise<S3RangeReader | undefined> {
    let url: URL;
    try {
      url = new URL(await presignObjectGet(client, bucket, "x", 60));
    } catch {
      return undefined;
    }
    const scope = url.searchParams.get("X-Amz-Credential")?.split("/");
    if (url.searchParams.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256" || scope?.length !== 5)
      return undefined;
    // Anything else in the query (S3 Express's session token, say) is a scheme this signer lacks.
    if ([...url.searchParams.keys()].some((name) => !PRESIGN_PARAMS.has(name.toLowerCase())))
      return undefined;
    if (!url.pathname.endsWith("/x")) return undefined;
    const base = new URL(url.origin);
    base.pathname = url.pathname.slice(0, -1);
    return new S3RangeReader(base, scope[2]!, scope[3]!, client, opts);
  }

  /**
   * Bytes start..endInclusive of `objectKey` (the full key in the bucket); fewer at the object's
   * end, none past it (416). Fails with an error shaped like the SDK's (name = S3 error code,
   * `$metadata.httpStatusCode`), so one mapping turns both into storage errors.
   */
  async read(objectKey: string, start: number, endInclusive: number): Promise<Buffer> {
    const path = this.#basePath + encodeKeyPath(objectKey);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(path, start, endInclusive);
      } catch (error) {
        if (attempt >= this.#maxAttempts || !retryable(error)) throw error;
        // Full jitter on an exponential base, like the SDK's standard retry strategy.
        await sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
      }
    }
  }

  close(): void {
    this.#agent.destroy();
  }

  async #once(path: string, start: number, endInclusive: number): Promise<Buffer> {
    const want = endInclusive - start + 1;
    const headers = this.#signer.sign(
      { method: "GET", host: this.#base.host, path, headers: { range: `bytes=${start}-${endInclusive}` } },
      await this.#credentials(),
      new Date(Date.now() + this.#skewMs),
    );
    return new Promise<Buffer>((resolve, reject) => {
      const request = this.#request(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          method: "GET",
          path,
          headers,
          agent: this.#agent,
          timeout: this.#timeoutMs,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          // 200: the server ignored the range; keep only what was asked and drop the rest unread.
          const limit = status === 206 ? want : status === 200 ? endInclusive + 1 : 64 * 1024;
          const chunks: Buffer[] = [];
          let total = 0;
          response.on("data", (chunk: Buffer) => {
            if (total >= limit) return;
            chunks.push(chunk);
            total += chunk.length;
            if (total >= limit && status === 200) response.destroy();
          });
          const done = () => {
            const body = Buffer.concat(chunks, total);
            if (status === 206) resolve(body.subarray(0, want));
            else if (status === 200) resolve(body.subarray(start, endInclusive + 1));
            else if (status === 416) resolve(Buffer.alloc(0));
            else {
              const failure = s3ErrorOf(status, body.toString("utf8"));
              if (failure.name === "RequestTimeTooSkewed") this.#learnSkew(response.headers.date);
              reject(failure);
            }
          };
          response.on("end", done);
          response.on("close", () => {
            if (status === 200 && total >= limit) done();
            else if (!response.complete) reject(networkError(`connection closed after ${total} bytes`));
          });
          response.on("error", (error) => {
            if (!(status === 200 && total >= limit)) reject(error);
          });
        },
      );
      request.on("timeout", () =>
        request.destroy(networkError(`no answer in ${this.#timeoutMs} ms`, "ETIMEDOUT")),
      );
      request.on("error", reject);
      request.end();
    });
  }

  #learnSkew(date: string | undefined): void {
    const server = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isFinite(server)) this.#skewMs = server - Date.now();
  }
}

export interface RangeReaderOptions {
  /** Attempts per read for network errors, 5xx, throttling and clock skew (the client's maxAttempts). */
  maxAttempts?: number;
  timeoutMs?: number;
  /** Sockets kept to the server (default 128, above any probe concurrency). */
  maxSockets?: number;
}

/** An S3 error answer as the SDK shapes it: the error code as name, the HTTP status in $metadata. */
export function s3ErrorOf(status: number, body: string): Error {
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const code = tag("Code") ?? (status === 404 ? "NotFound" : `HTTP${status}`);
  const error = new Error(tag("Message") ?? code);
  error.name = code;
  Object.assign(error, { $metadata: { httpStatusCode: status } });
  return error;
}

function networkError(message: string, code = "ECONNRESET"): Error {
  return Object.assign(new Error(message), { code });
}

/** The query of a plain SigV4 presigned GetObject URL, lower-cased. */
const PRESIGN_PARAMS = new Set([
  "x-amz-algorithm",
  "x-amz-content-sha256",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-signature",
  "x-amz-signedheaders",
  "x-amz-security-token",
  "x-amz-checksum-mode",
  "x-id",
]);

const RETRY_CODES = new Set([
  "SlowDown",
  "RequestTimeout",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeTooSkewed",
]);

/** What the SDK's standard strategy retries: network failures, 5xx, throttling, clock skew. */
export function retryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === undefined) return (error as { code?: unknown }).code !== undefined;
  return status >= 500 || status === 429 || RETRY_CODES.has(error.name);
}
