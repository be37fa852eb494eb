import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { GetObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ObjectTooLargeError, StorageError } from "./errors.ts";
import { assertKey, assertListPrefix } from "./keys.ts";
import type { S3Location } from "./location.ts";
import { formatLocation } from "./location.ts";
import { assertPutOptions, assertRange, unquoteEtag } from "./options.ts";
import { assertPresignExpiry, presignObjectGet } from "./presign.ts";
import { S3RangeReader } from "./s3-range-reader.ts";
import type { S3ErrorContext } from "./s3-errors.ts";
import { mapS3Error, s3Failure } from "./s3-errors.ts";
import type {
  CheckAccessOptions,
  GetOptions,
  ListOptions,
  ObjectInfo,
  PutOptions,
  PutStreamOptions,
  Storage,
} from "./types.ts";

const S3_KEYS = { allowEmptySegments: true };
const MAX_PAGE = 1000;
/** Above lib-storage's 5 MiB minimum; RGW and AWS both accept it. */
const PART_SIZE = 8 * 1024 * 1024;

export interface S3StorageOptions {
  /**
   * Ranged reads (header probes) sign their own GETs instead of going through the SDK, at a
   * quarter of the CPU (S3RangeReader); false keeps them on the SDK. Default true.
   */
  fastRangeReads?: boolean;
  /** Attempts per ranged read on the fast path (the SDK's own maxAttempts covers the rest). */
  maxAttempts?: number;
}

export class S3Storage implements Storage {
  readonly location: S3Location;
  readonly #client: S3Client;
  readonly #endpoint: string | undefined;
  /** The prefix as a folder: "photos/" (or "" for the whole bucket). */
  readonly #root: string;
  readonly #options: S3StorageOptions;
  /** Header reads without the SDK, opened on the first one; undefined: the SDK reads them. */
  #rangeReader: Promise<S3RangeReader | undefined> | undefined;

  /** `endpoint` only labels messages; requests go wherever `client` is configured to. */
  constructor(location: S3Location, client: S3Client, endpoint?: string, options: S3StorageOptions = {}) {
    this.location = location;
    this.#client = client;
    this.#endpoint = endpoint;
    this.#root = location.prefix === "" ? "" : `${location.prefix}/`;
    this.#options = options;
  }

  describe(key?: string): string {
    return formatLocation(this.location, key ?? "");
  }

  async *list(opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const prefix = opts.prefix ?? "";
    assertListPrefix(prefix, this.describe(), S3_KEYS);
    const pageSize = Math.min(MAX_PAGE, Math.max(1, Math.floor(opts.pageSize ?? MAX_PAGE)));
    let token: string | undefined;
    do {
      opts.signal?.throwIfAborted();
      const command = new ListObjectsV2Command({
        Bucket: this.location.bucket,
        Prefix: this.#root + prefix,
        MaxKeys: pageSize,
        ContinuationToken: token,
      });
      const page = await this.#call("listing", this.describe(prefix), () =>
        this.#client.send(command, { abortSignal: opts.signal }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        const key = object.Key.slice(this.#root.length);
        // "folder/" markers written by consoles hold no data and cannot be addressed as keys.
        if (key === "" || key.endsWith("/")) continue;
        yield {
          key,
          size: object.Size ?? 0,
          etag: unquoteEtag(object.ETag ?? ""),
          ...(object.LastModified === undefined ? {} : { lastModified: object.LastModified }),
        };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      if (page.IsTruncated === true && token === undefined) {
        throw new StorageError(
          `${this.describe(prefix)}: listing is truncated but has no continuation token`,
          this.describe(),
        );
      }
    } while (token !== undefined);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const command = new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.#objectKey(key) });
    try {
      const head = await this.#client.send(command);
      return {
        key,
        size: head.ContentLength ?? 0,
        etag: unquoteEtag(head.ETag ?? ""),
        ...(head.LastModified === undefined ? {} : { lastModified: head.LastModified }),
        ...(head.ContentType === undefined ? {} : { contentType: head.ContentType }),
      };
    } catch (error) {
      // HEAD answers carry no body, so a missing bucket is also a bare 404 here: checkAccess()
      // is the call that tells the two apart.
      if (s3Failure(error).status === 404) return undefined;
      throw mapS3Error(error, this.#context(key, "reading metadata"));
    }
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    assertRange(start, endInclusive);
    const objectKey = this.#objectKey(key);
    if (this.#options.fastRangeReads !== false) {
      this.#rangeReader ??= S3RangeReader.open(this.#client, this.location.bucket, {
        ...(this.#options.maxAttempts === undefined ? {} : { maxAttempts: this.#options.maxAttempts }),
      });
      const reader = await this.#rangeReader;
      if (reader !== undefined) {
        try {
          return await reader.read(objectKey, start, endInclusive);
        } catch (error) {
          throw mapS3Error(error, this.#context(key, "reading a range"));
        }
      }
    }
    const command = new GetObjectCommand({
      Bucket: this.location.bucket,
      Key: objectKey,
      Range: `bytes=${start}-${endInclusive}`,
    });
    let response: GetObjectCommandOutput;
    try {
      response = await this.#client.send(command);
    } catch (error) {
      // 416: the range starts at or past the end; file:// returns no bytes there, so do we.
      if (s3Failure(error).status === 416) return Buffer.alloc(0);
      throw mapS3Error(error, this.#context(key, "reading a range"));
    }
    return this.#call("reading a range", this.describe(key), () => readBody(response, this.describe(key)));
  }

  async get(key: string, opts: GetOptions = {}): Promise<Buffer> {
    const where = this.describe(key);
    const ifMatch = opts.ifMatch === undefined ? undefined : unquoteEtag(opts.ifMatch);
    const command = new GetObjectCommand({
      Bucket: this.location.bucket,
      Key: this.#objectKey(key),
      // Bare, like on put: RGW 16 accepts a quoted If-Match on GET, but not on PUT.
      ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }),
    });
    const condition = ifMatch === undefined ? undefined : `If-Match ${ifMatch}`;
    const response = await this.#call("reading", where, () => this.#client.send(command), condition);
    return this.#call("reading", where, () => readBody(response, where, opts.maxBytes));
  }

  async put(key: string, body: Buffer | string, opts: PutOptions): Promise<{ etag: string }> {
    assertPutOptions(opts);
    const where = this.describe(key);
    const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    // RGW compares a PUT's If-Match literally with the bare ETag: a quoted one always gets 412.
    const ifMatch = opts.ifMatch === undefined ? undefined : unquoteEtag(opts.ifMatch);
    const command = new PutObjectCommand({
      Bucket: this.location.bucket,
      Key: this.#objectKey(key),
      // A Buffer, never a stream: S3-compatible servers reject the SDK's chunked stream uploads.
      Body: data,
      ContentLength: data.length,
      ContentType: opts.contentType,
      ...(opts.cacheControl === undefined ? {} : { CacheControl: opts.cacheControl }),
      ...(opts.ifNoneMatch === undefined ? {} : { IfNoneMatch: opts.ifNoneMatch }),
      ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }),
    });
    const condition =
      opts.ifNoneMatch !== undefined
        ? "If-None-Match *: the key exists"
        : ifMatch === undefined
          ? undefined
          : `If-Match ${ifMatch}`;
    const result = await this.#call("writing", where, () => this.#client.send(command), condition, true);
    return { etag: unquoteEtag(result.ETag ?? "") };
  }

  async putStream(
    key: string,
    body: AsyncIterable<Uint8Array>,
    opts: PutStreamOptions,
  ): Promise<{ etag: string }> {
    const where = this.describe(key);
    const upload = new Upload({
      client: this.#client,
      partSize: PART_SIZE,
      queueSize: 4,
      leavePartsOnError: false,
      params: {
        Bucket: this.location.bucket,
        Key: this.#objectKey(key),
        // lib-storage cuts the stream into Buffer parts, which every server accepts.
        Body: body instanceof Readable ? body : Readable.from(body),
        ContentType: opts.contentType,
        ...(opts.cacheControl === undefined ? {} : { CacheControl: opts.cacheControl }),
      },
    });
    const result = await this.#call("writing", where, () => upload.done());
    const etag = unquoteEtag(result.ETag ?? "");
    if (etag !== "") return { etag };
    // RGW's CompleteMultipartUpload answers with an empty ETag; the object has one, ask for it.
    const head = await this.head(key);
    if (head === undefined)
      throw new StorageError(`${where}: written, but gone before its ETag was read`, where);
    return { etag: head.etag };
  }

  async delete(key: string): Promise<void> {
    const command = new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.#objectKey(key) });
    await this.#call("deleting", this.describe(key), () => this.#client.send(command));
  }

  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    const objectKey = this.#objectKey(key);
    assertPresignExpiry(expiresInSeconds);
    // Signing is local (no request), so only missing credentials can fail it.
    return this.#call("signing a URL", this.describe(key), () =>
      presignObjectGet(this.#client, this.location.bucket, objectKey, expiresInSeconds),
    );
  }

  async checkAccess(opts: CheckAccessOptions = {}): Promise<void> {
    const where = this.describe();
    // A one-key listing of the prefix rather than HeadBucket: it is exactly what a scan needs,
    // it works under prefix-scoped policies, and a missing bucket comes back as NoSuchBucket
    // instead of a bodiless 404.
    const list = new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.#root, MaxKeys: 1 });
    await this.#call("listing", where, () => this.#client.send(list));
    if (!opts.write) return;
    const probe = `.tessera-access-check-${randomBytes(6).toString("hex")}`;
    await this.put(probe, Buffer.alloc(0), { contentType: "application/octet-stream" });
    await this.delete(probe);
  }

  #objectKey(key: string): string {
    assertKey(key, this.describe(), S3_KEYS);
    return this.#root + key;
  }

  #context(key: string, doing: string): S3ErrorContext {
    return {
      where: this.describe(key),
      root: this.describe(),
      doing,
      ...(this.#endpoint === undefined ? {} : { endpoint: this.#endpoint }),
    };
  }

  async #call<T>(
    doing: string,
    where: string,
    run: () => Promise<T>,
    condition?: string,
    missingIsPrecondition = false,
  ): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw mapS3Error(error, {
        where,
        root: this.describe(),
        doing,
        missingIsPrecondition,
        ...(condition === undefined ? {} : { condition }),
        ...(this.#endpoint === undefined ? {} : { endpoint: this.#endpoint }),
      });
    }
  }
}

/**
 * Buffers a GetObject body, refusing to hold more than `maxBytes`: Content-Length is checked
 * before reading, and the count again while reading, since a server may stream without one.
 */
async function readBody(response: GetObjectCommandOutput, where: string, maxBytes?: number): Promise<Buffer> {
  const body = response.Body;
  const announced = response.ContentLength;
  if (maxBytes !== undefined && announced !== undefined && announced > maxBytes) {
    if (body instanceof Readable) body.destroy(); // frees the socket without reading the rest
    throw new ObjectTooLargeError(where, announced, maxBytes);
  }
  if (body === undefined) return Buffer.alloc(0);
  if (!(body instanceof Readable)) {
    const bytes = Buffer.from(await body.transformToByteArray());
    if (maxBytes !== undefined && bytes.length > maxBytes)
      throw new ObjectTooLargeError(where, bytes.length, maxBytes);
    return bytes;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop early (the throw) destroys the stream.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (maxBytes !== undefined && total > maxBytes)
      throw new ObjectTooLargeError(where, total, maxBytes, false);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
