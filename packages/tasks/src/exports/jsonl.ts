import type { ExportRecord } from "./record.ts";

export interface JsonlOptions {
  /** Keep segment masks' PNGs (base64); by default only their RLE, which holds the same pixels. */
  includeMaskPng?: boolean;
}

/** One JSON line per annotation: {key, width, height, task, result}, in the order given. */
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
      const { key, width, height } = record.source;
      return JSON.stringify({ key, width, height, task: record.task, result }) + "\n";
    })
    .join("");
}
