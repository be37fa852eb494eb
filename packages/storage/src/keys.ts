import { InvalidKeyError } from "./errors.ts";

export interface KeyRules {
  /**
   * S3 keys may hold "a//b" (other tools write them, list() returns them). On a file system it
   * names "a/b", so the object could not be read back under the same key: file:// refuses it.
   */
  allowEmptySegments: boolean;
}

/**
 * "." and ".." segments are refused on every backend: on file:// they escape the root, and on S3
 * HTTP layers (proxies, some servers) normalise them out of the request path, which would read or
 * write outside the prefix. A trailing "/" names a folder, never an object.
 */
export function assertKey(key: string, where: string, rules: KeyRules): void {
  if (key === "") throw new InvalidKeyError(key, where, "the key is empty");
  if (key.startsWith("/")) throw new InvalidKeyError(key, where, "keys are relative: drop the leading /");
  if (key.endsWith("/"))
    throw new InvalidKeyError(key, where, "a key ending in / names a folder, not an object");
  assertSegments(key, key.split("/"), where, rules);
}

/** A list prefix may end in a partial name ("2024/img_") or a "/"; its folders obey assertKey. */
export function assertListPrefix(prefix: string, where: string, rules: KeyRules): void {
  if (prefix === "") return;
  if (prefix.startsWith("/"))
    throw new InvalidKeyError(prefix, where, "prefixes are relative: drop the leading /");
  const folders = prefix.split("/").slice(0, -1);
  assertSegments(prefix, folders, where, rules);
}

function assertSegments(key: string, segments: string[], where: string, rules: KeyRules): void {
  if (key.includes("\0")) throw new InvalidKeyError(key, where, "the key contains a NUL character");
  for (const segment of segments) {
    if (segment === "" && !rules.allowEmptySegments) {
      throw new InvalidKeyError(key, where, "the key has an empty segment (//)");
    }
    if (segment === "." || segment === "..") {
      throw new InvalidKeyError(key, where, `"${segment}" segments could escape the location root`);
    }
  }
}

/**
 * Orders keys the way S3 lists them: by UTF-8 bytes, which is code point order. Plain `<` on JS
 * strings compares UTF-16 units and would put astral characters (emoji) before U+E000-U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
