import type { PixelBox } from "@tessera/imaging";
import type { TaskResultUnion } from "../registry.ts";
import type { CocoRle } from "../rle.ts";

/**
 * What the exporters read from one annotation: its task and result, and the source image's key
 * and display size. An annotation file has these members, so annotations can be passed as they are.
 */
export type ExportRecord = TaskResultUnion & {
  source: { key: string; width: number; height: number };
  /** A compare set's annotation: exports name the set and its members, not the first image. */
  set?: { id: string; members: readonly { key: string }[] } | undefined;
};

/** A located object of a detect or segment result. */
export interface LocatedObject {
  label: string;
  box: PixelBox;
  /** Segment results only, when the mask was usable. */
  rle?: CocoRle | undefined;
  area?: number | undefined;
}

/** The objects of a detect or segment record; undefined for the other tasks. */
export function locatedObjects(record: ExportRecord): LocatedObject[] | undefined {
  if (record.task === "detect") return record.result.objects.map((o) => ({ label: o.label, box: o.box }));
  if (record.task === "segment") {
    return record.result.objects.map((o) => ({
      label: o.label,
      box: o.box,
      rle: o.mask?.rle,
      area: o.mask?.area,
    }));
  }
  return undefined;
}
