import type { ExportRecord } from "./record.ts";

export interface JsonlOptions {
  /** Keep segment masks' PNGs (base64); by default only their RLE, which holds the same pixels. */
  includeMaskPng?: boolean;
}

/**
 * One JSON line per annotation, in the order given: {key, width, height, task, result}, or for a
 * compare set {set, members, task, result}.
 */
export function toJsonl(records: readonly ExportRecord[], options: JsonlOptions = {}): string {
  return records
    .map((record) => {
      const result =
        record.task === "segment" && options.includeMaskPng !== true
          ? {
              objects: record.result.objects.map((o) => ({
                ...o,
                mask: o.mask === null ? null : { area: o.mask.area, rle: o.mask.rle },
              })),
            }
          : record.result;
      if (record.set !== undefined) {
        const members = record.set.members.map((m) => m.key);
        return JSON.stringify({ set: record.set.id, members, task: record.task, result }) + "\n";
      }
      const { key, width, height } = record.source;
      return JSON.stringify({ key, width, height, task: record.task, result }) + "\n";
    })
    .join("");
}
