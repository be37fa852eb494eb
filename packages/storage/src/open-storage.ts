import { FileStorage } from "./file-storage.ts";
import type { Location } from "./location.ts";
import { parseLocation } from "./location.ts";
import { endpointLabel, s3Client } from "./s3-client.ts";
import { S3Storage } from "./s3-storage.ts";
import type { S3Config, Storage } from "./types.ts";
import { UrlListStorage, type UrlSourceOptions } from "./url-storage.ts";

/**
 * `config` is only read for s3:// locations (clients are shared between equal configs), `urls`
 * only for urls+file:// lists (unset: URL_DEFAULTS, which refuse private addresses).
 */
export function openStorage(uri: string | Location, config?: S3Config, urls?: UrlSourceOptions): Storage {
  const location = typeof uri === "string" ? parseLocation(uri) : uri;
  switch (location.scheme) {
    case "file":
      return new FileStorage(location);
    case "urls":
      return new UrlListStorage(location, urls);
    case "s3":
      if (config === undefined) {
        throw new TypeError(
          `openStorage: ${typeof uri === "string" ? uri : "an s3:// location"} needs an S3Config`,
        );
      }
      return new S3Storage(location, s3Client(config), endpointLabel(config.endpoint), {
        ...(config.fastRangeReads === undefined ? {} : { fastRangeReads: config.fastRangeReads }),
        ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
      });
  }
}

/**
 * Opens one Storage per location URI for the life of the caller (S3 clients pool connections):
 * what workers, the CLI and tests hand around as `storage(uri)`.
 */
export function storageCache(config?: S3Config, urls?: UrlSourceOptions): (uri: string) => Storage {
  const cache = new Map<string, Storage>();
  return (uri) => {
    let storage = cache.get(uri);
    if (!storage) {
      storage = openStorage(uri, config, urls);
      cache.set(uri, storage);
    }
    return storage;
  };
}
