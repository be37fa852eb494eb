import { UsageError } from "@tessera/core";
import { SET_ID } from "@tessera/queue";
import { readJsonLines } from "./json-lines.ts";

/** A compare set from --sets: its id and its members' source keys, in the order they are sent. */
export interface ImageSet {
  id: string;
  keys: string[];
}

/**
 * Reads a --sets file: JSON Lines, one set per line, either a list of source keys
 * (`["a.png", "b.png"]`, id `set-<n>` for the n-th set) or `{"id": "...", "keys": [...]}`. Blank lines are
 * ignored. Every problem is a usage error naming the line: a set needs 2 to `maxImages` distinct
 * keys, and ids are unique.
 */
export function parseSets(text: string, name: string, maxImages: number): ImageSet[] {
  const sets: ImageSet[] = [];
  const ids = new Set<string>();
  for (const [index, { value, where }] of readJsonLines(text, `--sets ${name}`).entries()) {
    const object = typeof value === "object" && value !== null && !Array.isArray(value);
    const keys: unknown = object ? (value as Record<string, unknown>)["keys"] : value;
    const id: unknown = (object ? (value as Record<string, unknown>)["id"] : undefined) ?? defaultId(index);
    if (!Array.isArray(keys) || !keys.every((k): k is string => typeof k === "string" && k !== "")) {
      throw new UsageError(`${where}: expected a list of source keys, or {"id": "...", "keys": [...]}`);
    }
    if (typeof id !== "string" || !SET_ID.test(id)) {
      throw new UsageError(`${where}: the id must be 1-128 letters, digits, . _ or -`);
    }
    if (keys.length < 2 || keys.length > maxImages) {
      throw new UsageError(`${where}: a set has 2 to ${maxImages} images, this one ${keys.length}`);
    }
    if (new Set(keys).size !== keys.length) throw new UsageError(`${where}: a key is listed twice`);
    if (ids.has(id)) throw new UsageError(`${where}: the id ${id} is used twice`);
    ids.add(id);
    sets.push({ id, keys });
  }
  if (sets.length === 0) throw new UsageError(`--sets ${name}: no sets in the file`);
  return sets;
}

/** Sets without an id are numbered by their place in the file (blank lines not counted). */
function defaultId(index: number): string {
  return `set-${index + 1}`;
}

/** How many sets send each key: an image several sets share is uploaded once (Files API). */
export function usesOf(sets: readonly ImageSet[]): Map<string, number> {
  const uses = new Map<string, number>();
  for (const set of sets) for (const key of set.keys) uses.set(key, (uses.get(key) ?? 0) + 1);
  return uses;
}
