import type { Location } from "./location.ts";

export interface ObjectInfo {
  /** Relative to the location root, "/"-separated. */
  key: string;
  size: number;
  /**
   * Opaque version fingerprint without quotes, usable as `ifMatch`. For S3 it is the server's ETag
   * (an MD5 only for single-part uploads); for file:// it is derived from size, mtime and inode.
   */
  etag: string;
  lastModified?: Date;
  /** Only filled by head() on S3: list responses and the file system do not carry it. */
  contentType?: string;
}

export interface PutOptions {
  contentType: string;
  /** Write once: fail with PreconditionFailedError when the key already exists. */
  ifNoneMatch?: "*";
  /** Replace only the version with this ETag (quoted or not). */
  ifMatch?: string;
  cacheControl?: string;
}

export interface PutStreamOptions {
  contentType: string;
  cacheControl?: string;
}

export interface ListOptions {
  /** Plain string prefix relative to the location root ("2024/" or "2024/img_"). */
  prefix?: string;
  /** Keys fetched per request (S3 MaxKeys, at most 1000) or stat()s in flight (file://). */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface GetOptions {
  ifMatch?: string;
  /** Refuse objects bigger than this with ObjectTooLargeError instead of buffering them. */
  maxBytes?: number;
}

export interface CheckAccessOptions {
  /**
   * Also prove the location can be written to (an output). On S3 this writes and deletes a small
   * probe object under the prefix, the only reliable test of a bucket policy; on file:// it checks
   * the directory, or the nearest existing ancestor it would be created in.
   */
  write?: boolean;
}

export interface Storage {
  readonly location: Location;
  /** "s3://bucket/prefix/key" or "file:///dir/key"; parseable by parseLocation, never secret. */
  describe(key?: string): string;
  /** Streams page by page in lexicographic (UTF-8 byte) order of key. */
  list(opts?: ListOptions): AsyncIterable<ObjectInfo>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Bytes start..endInclusive; shorter (or empty) when the object ends before. */
  getRange(key: string, start: number, endInclusive: number): Promise<Buffer>;
  get(key: string, opts?: GetOptions): Promise<Buffer>;
  put(key: string, body: Buffer | string, opts: PutOptions): Promise<{ etag: string }>;
  /** For bodies too big to hold in memory (a Node Readable fits); unconditional. */
  putStream(key: string, body: AsyncIterable<Uint8Array>, opts: PutStreamOptions): Promise<{ etag: string }>;
  /** Deleting a missing key is not an error, as on S3. */
  delete(key: string): Promise<void>;
  /**
   * A URL anyone can GET the object from until it expires (at most 7 days), or undefined when the
   * storage has no such URL (file://: nothing outside this machine can fetch it). The query string
   * is a credential: never log it.
   */
  presignGet(key: string, expiresInSeconds: number): Promise<string | undefined>;
  /** Throws LocationNotFoundError or AccessDeniedError with a message fit for a user. */
  checkAccess(opts?: CheckAccessOptions): Promise<void>;
}

export interface S3Config {
  /** Set for S3-compatible servers (RGW, MinIO); unset for AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Unset: the SDK's default provider chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
  /** Header probes sign their own ranged GETs rather than using the SDK (default true); see S3RangeReader. */
  fastRangeReads?: boolean;
}
