import type { PixelBox } from "@tessera/imaging";
import { rleFromMask, type CocoRle } from "../rle.ts";
import { locatedObjects, type ExportRecord } from "./record.ts";

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, width, height] in pixels from the top-left corner. */
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0;
  segmentation: CocoRle;
}

export interface CocoDataset {
  info: { description: string; version: string; year: number; date_created: string };
  licenses: never[];
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: CocoAnnotation[];
}

export interface CocoOptions {
  /** Category order (e.g. the run's --labels); labels not listed follow, sorted. */
  categories?: readonly string[];
  description?: string;
  /** ISO timestamp; pass the run's completion time so a rebuilt export is byte-identical. */
  dateCreated?: string;
}

/**
 * A COCO dataset from detect or segment annotations. Every image appears (with or without
 * objects). Segment objects carry their mask as uncompressed RLE with its pixel count as area;
 * detect objects carry their box as the RLE (a box is its own mask) and its area. Segment objects
 * whose mask was unusable are left out and counted in `skippedObjects`: a box posing as a mask
 * would corrupt segmentation metrics.
 */
export function buildCoco(
  records: readonly ExportRecord[],
  options: CocoOptions = {},
): { dataset: CocoDataset; skippedObjects: number } {
  const labels = new Set<string>();
  const perRecord = records.map((record) => {
    const objects = locatedObjects(record);
    if (objects === undefined)
      throw new RangeError(`COCO export covers detect and segment, not ${record.task}`);
    for (const o of objects) labels.add(o.label);
    return { record, objects };
  });
  const listed = (options.categories ?? []).filter((l, i, all) => all.indexOf(l) === i);
  const others = [...labels].filter((l) => !listed.includes(l)).sort();
  const categories = [...listed, ...others].map((name, i) => ({ id: i + 1, name, supercategory: "object" }));
  const categoryId = new Map(categories.map((c) => [c.name, c.id]));

  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  let skippedObjects = 0;
  perRecord.forEach(({ record, objects }, i) => {
    const { key, width, height } = record.source;
    const imageId = i + 1;
    images.push({ id: imageId, file_name: key, width, height });
    for (const o of objects) {
      let segmentation = o.rle;
      let area = o.area;
      if (record.task === "segment" && (segmentation === undefined || area === undefined)) {
        skippedObjects++;
        continue;
      }
      if (segmentation === undefined || area === undefined) {
        segmentation = boxRle(o.box, width, height);
        area = (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]);
      }
      annotations.push({
        id: annotations.length + 1,
        image_id: imageId,
        category_id: categoryId.get(o.label)!,
        bbox: [o.box[0], o.box[1], o.box[2] - o.box[0], o.box[3] - o.box[1]],
        area,
        iscrowd: 0,
        segmentation,
      });
    }
  });
  const created = options.dateCreated ?? new Date().toISOString();
  return {
    dataset: {
      info: {
        description: options.description ?? "Tessera annotations",
        version: "1.0",
        year: new Date(created).getUTCFullYear(),
        date_created: created,
      },
      licenses: [],
      images,
      categories,
      annotations,
    },
    skippedObjects,
  };
}

function boxRle(box: PixelBox, width: number, height: number): CocoRle {
  const data = new Uint8Array((box[2] - box[0]) * (box[3] - box[1])).fill(1);
  return rleFromMask({ frame: { width, height }, box, data });
}
