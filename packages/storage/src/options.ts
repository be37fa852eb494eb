import type { PutOptions } from "./types.ts";

/** Servers send ETags quoted ("\"abc\""), callers get and give them bare; weak "W/" is dropped. */
export function unquoteEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

export function assertPutOptions(opts: PutOptions): void {
  if (opts.ifNoneMatch !== undefined && opts.ifMatch !== undefined) {
    throw new TypeError("put: ifNoneMatch and ifMatch cannot both be set");
  }
  if (opts.ifNoneMatch !== undefined && opts.ifNoneMatch !== "*") {
    throw new TypeError(`put: ifNoneMatch only supports "*", got ${JSON.stringify(opts.ifNoneMatch)}`);
  }
}

export function assertRange(start: number, endInclusive: number): void {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(endInclusive) ||
    start < 0 ||
    endInclusive < start
  ) {
    throw new RangeError(`invalid byte range ${start}-${endInclusive}: need 0 <= start <= endInclusive`);
  }
}
