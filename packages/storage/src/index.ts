export type {
  ObjectInfo,
  PutOptions,
  PutStreamOptions,
  ListOptions,
  GetOptions,
  CheckAccessOptions,
  Storage,
  S3Config,
} from "./types.ts";
export type { Location, S3Location, FileLocation, UrlsLocation } from "./location.ts";
export { parseLocation, formatLocation, joinKey, isUnder } from "./location.ts";
export { compareKeys } from "./keys.ts";
export { openStorage, storageCache } from "./open-storage.ts";
export { FileStorage } from "./file-storage.ts";
export { S3Storage } from "./s3-storage.ts";
export { s3Client, closeS3Clients } from "./s3-client.ts";
export { MAX_PRESIGN_SECONDS, redactSignedUrl } from "./presign.ts";
export {
  StorageError,
  StorageUriError,
  InvalidKeyError,
  LocationNotFoundError,
  ObjectNotFoundError,
  PreconditionFailedError,
  AccessDeniedError,
  ObjectTooLargeError,
  UrlFetchError,
  isPermanentStorageError,
} from "./errors.ts";
export { UrlListStorage, URL_DEFAULTS, urlEtag } from "./url-storage.ts";
export type { UrlSourceOptions } from "./url-storage.ts";
export { classifyAddress } from "./url-address.ts";
export type { AddressClass } from "./url-address.ts";
export { urlKey, parseUrlList, redactUrl } from "./url-list.ts";
export type { StorageErrorCode } from "./errors.ts";
