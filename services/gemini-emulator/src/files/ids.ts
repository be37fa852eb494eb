// Resource ids in the API's alphabet: lowercase letters and digits. The SDK pulls a file id out of a
// file's uri with /[a-z0-9]+/, so anything else would be cut short on the client side.
import { randomInt } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Real ids are 12 characters for files and 36 for batches. */
export function randomId(length: number): string {
  let id = "";
  for (let i = 0; i < length; i += 1) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** What a client-chosen file id may be: up to 40 of [a-z0-9-], not starting or ending with a dash. */
export const FILE_ID = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
