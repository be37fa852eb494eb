import { FileStorage } from "./file-storage.ts";
import type { Location } from "./location.ts";
import { parseLocation } from "./location.ts";
import { endpointLabel, s3Client } from "./s3-client.ts";
import { S3Storage } from "./s3-storage.ts";
import type { S3Config, Storage } from "./types.ts";

/** `config` is only read for s3:// locations; clients are shared between equal configs. */
export function openStorage(uri: string | Location, config?: S3Config): Storage {
  const location = typeof uri === "string" ? parseLocation(uri) : uri;
  switch (location.scheme) {
    case "file":
      return new FileStorage(location);
    case "s3":
      if (config === undefined) {
        throw new TypeError(
          `openStorage: ${typeof uri === "string" ? uri : "an s3:// location"} needs an S3Config`,
        );
      }
      return new S3Storage(location, s3Client(config), endpointLabel(config.endpoint));
  }
}

/**
 * Opens one Storage per location URI for the life of the caller (S3 clients pool connections):
 * what workers, the CLI and tests hand around as `storage(uri)`.
 */
export function storageCache(config?: S3Config): (uri: string) => Storage {
  const cache = new Map<string, Storage>();
  return (uri) => {
    let storage = cache.get(uri);
    if (!storage) {
      storage = openStorage(uri, config);
      cache.set(uri, storage);
    }
    return storage;
  };
}
