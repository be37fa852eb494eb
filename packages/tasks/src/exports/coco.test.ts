import { identityTransform } from "@tessera/imaging";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { bindTask } from "../registry.ts";
import type { SegmentResult } from "../tasks/segment.ts";
import { buildCoco, type CocoDataset } from "./coco.ts";
import type { ExportRecord } from "./record.ts";

async function maskPng(
  width: number,
  height: number,
  inside: (x: number, y: number) => boolean,
): Promise<string> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 255 : 0;
  const png = await sharp(data, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString("base64")}`;
}

async function segmentRecord(
  key: string,
  width: number,
  height: number,
  answer: unknown[],
): Promise<ExportRecord> {
  const out = await bindTask("segment", {}, "gemini-2.5-flash").parse(
    { text: JSON.stringify(answer), finishReason: "STOP" },
    { images: [{ label: key, transform: identityTransform({ width, height }) }] },
  );
  const first = out.perImage[0]!;
  if (!first.ok) throw new Error(first.error);
  return { task: "segment", result: first.result as SegmentResult, source: { key, width, height } };
}

/** COCO's uncompressed RLE, decoded from the format's definition alone (column-major, 0s first). */
function decodeColumnMajor(size: [number, number], counts: number[]): Uint8Array {
  const [h, w] = size;
  const columnMajor = new Uint8Array(h * w);
  let at = 0;
  counts.forEach((n, i) => {
    columnMajor.fill(i % 2, at, at + n);
    at += n;
  });
  const rowMajor = new Uint8Array(h * w);
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) rowMajor[y * w + x] = columnMajor[x * h + y]!;
  return rowMajor;
}

/** The invariants of a COCO instances file, checked without Tessera's own code. */
function checkCoco(dataset: CocoDataset): string[] {
  const problems: string[] = [];
  const unique = (name: string, ids: number[]): void => {
    if (new Set(ids).size !== ids.length) problems.push(`${name} ids repeat`);
    if (!ids.every((id) => Number.isInteger(id) && id > 0))
      problems.push(`${name} ids are not positive integers`);
  };
  unique(
    "image",
    dataset.images.map((i) => i.id),
  );
  unique(
    "category",
    dataset.categories.map((c) => c.id),
  );
  unique(
    "annotation",
    dataset.annotations.map((a) => a.id),
  );
  for (const a of dataset.annotations) {
    const image = dataset.images.find((i) => i.id === a.image_id);
    if (image === undefined) {
      problems.push(`annotation ${a.id}: no image ${a.image_id}`);
      continue;
    }
    if (!dataset.categories.some((c) => c.id === a.category_id))
      problems.push(`annotation ${a.id}: no category`);
    const [x, y, w, h] = a.bbox;
    if (!(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= image.width && y + h <= image.height)) {
      problems.push(`annotation ${a.id}: bbox ${a.bbox.join(",")} outside ${image.width}x${image.height}`);
    }
    if (a.iscrowd !== 0) problems.push(`annotation ${a.id}: iscrowd ${String(a.iscrowd)}`);
    const { size, counts } = a.segmentation;
    if (size[0] !== image.height || size[1] !== image.width)
      problems.push(`annotation ${a.id}: RLE size ${size.join("x")}`);
    if (counts.reduce((s, n) => s + n, 0) !== image.width * image.height)
      problems.push(`annotation ${a.id}: counts do not sum to h*w`);
    if (!counts.every((n, i) => Number.isInteger(n) && (n > 0 || i === 0)))
      problems.push(`annotation ${a.id}: bad run`);
    const mask = decodeColumnMajor(size, counts);
    let area = 0;
    let outside = 0;
    for (let py = 0; py < image.height; py++) {
      for (let px = 0; px < image.width; px++) {
        if (mask[py * image.width + px] !== 1) continue;
        area++;
        if (px < x || px >= x + w || py < y || py >= y + h) outside++;
      }
    }
    if (area !== a.area) problems.push(`annotation ${a.id}: area ${a.area}, mask has ${area} pixels`);
    if (outside > 0) problems.push(`annotation ${a.id}: ${outside} mask pixels outside the bbox`);
  }
  return problems;
}

describe("buildCoco", () => {
  it("writes a dataset that meets COCO's invariants, with masks equal to the stored PNGs", async () => {
    const circle = await maskPng(256, 256, (x, y) => (x - 127.5) ** 2 + (y - 127.5) ** 2 < 120 ** 2);
    const square = await maskPng(64, 64, () => true);
    const records: ExportRecord[] = [
      await segmentRecord("a.jpg", 320, 240, [
        { box_2d: [100, 100, 600, 500], mask: circle, label: "bowl" },
        { box_2d: [700, 700, 1000, 1000], mask: square, label: "spoon" },
        { box_2d: [0, 0, 100, 100], mask: "<seg_1>", label: "spoon" },
      ]),
      await segmentRecord("b.jpg", 101, 77, [{ box_2d: [0, 0, 1000, 1000], mask: circle, label: "bowl" }]),
      await segmentRecord("empty.jpg", 50, 50, []),
    ];
    const { dataset, skippedObjects } = buildCoco(records, {
      categories: ["spoon"],
      dateCreated: "2026-01-02T03:04:05Z",
    });
    expect(skippedObjects).toBe(1);
    expect(checkCoco(dataset)).toEqual([]);
    expect(dataset.images.map((i) => [i.id, i.file_name, i.width, i.height])).toEqual([
      [1, "a.jpg", 320, 240],
      [2, "b.jpg", 101, 77],
      [3, "empty.jpg", 50, 50],
    ]);
    expect(dataset.categories).toEqual([
      { id: 1, name: "spoon", supercategory: "object" },
      { id: 2, name: "bowl", supercategory: "object" },
    ]);
    expect(dataset.annotations.map((a) => [a.image_id, a.category_id, a.bbox])).toEqual([
      [1, 2, [32, 24, 128, 120]],
      [1, 1, [224, 168, 96, 72]],
      [2, 2, [0, 0, 101, 77]],
    ]);
    expect(dataset.info).toMatchObject({ year: 2026, date_created: "2026-01-02T03:04:05Z" });

    // The RLE holds exactly the pixels of the PNG stored in the annotation.
    const stored = records
      .flatMap((r) => (r.task === "segment" ? r.result.objects : []))
      .filter((o) => o.mask !== null);
    for (const [i, object] of stored.entries()) {
      const annotation = dataset.annotations[i]!;
      const png = await sharp(Buffer.from(object.mask!.png, "base64")).extractChannel(0).raw().toBuffer();
      const fromRle = decodeColumnMajor(annotation.segmentation.size, annotation.segmentation.counts);
      expect(png.every((v, k) => (v === 255) === (fromRle[k] === 1))).toBe(true);
    }
    // It survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(dataset))).toEqual(dataset);
  });

  it("gives detect boxes their rectangle as the mask", async () => {
    const out = await bindTask("detect", {}, "m").parse(
      { text: '[{"box_2d": [250, 100, 750, 300], "label": "post"}]' },
      { images: [{ label: "c.jpg", transform: identityTransform({ width: 60, height: 40 }) }] },
    );
    const first = out.perImage[0]!;
    if (!first.ok) throw new Error(first.error);
    const record: ExportRecord = {
      task: "detect",
      result: first.result as never,
      source: { key: "c.jpg", width: 60, height: 40 },
    };
    const { dataset } = buildCoco([record]);
    expect(checkCoco(dataset)).toEqual([]);
    expect(dataset.annotations[0]).toMatchObject({ bbox: [6, 10, 12, 20], area: 240 });
  });

  it("refuses tasks without geometry", () => {
    expect(() =>
      buildCoco([{ task: "caption", result: { caption: "x" }, source: { key: "k", width: 1, height: 1 } }]),
    ).toThrow(/detect and segment, not caption/);
  });
});
