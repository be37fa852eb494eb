import { locatedObjects, type ExportRecord } from "./record.ts";

type Cell = string | number;

/** RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. */
function cell(value: Cell): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function line(cells: readonly Cell[]): string {
  return cells.map(cell).join(",") + "\r\n";
}

/**
 * A CSV of one task's annotations (a run has one task). Detect and segment give one row per
 * object (an image without objects still gets a row, with empty object columns); the other tasks
 * one row per image. Lists inside a cell are joined with " | ".
 */
export function toCsv(records: readonly ExportRecord[]): string {
  const first = records[0];
  if (first === undefined) return "";
  const task = first.task;
  const mixed = records.find((r) => r.task !== task);
  if (mixed !== undefined)
    throw new RangeError(`CSV export of one task at a time: ${task} and ${mixed.task}`);
  const rows: string[] = [];
  switch (task) {
    case "caption":
      rows.push(line(["key", "caption"]));
      for (const r of records) if (r.task === "caption") rows.push(line([r.source.key, r.result.caption]));
      break;
    case "classify":
      rows.push(line(["key", "labels"]));
      for (const r of records)
        if (r.task === "classify") rows.push(line([r.source.key, r.result.labels.join(" | ")]));
      break;
    case "vqa":
      rows.push(line(["key", "question", "answer"]));
      for (const r of records)
        if (r.task === "vqa") rows.push(line([r.source.key, r.result.question, r.result.answer]));
      break;
    case "compare":
      rows.push(line(["set", "members", "summary", "differences"]));
      for (const r of records) {
        if (r.task !== "compare") continue;
        const differences = r.result.differences.map((d) => `${d.description} [${d.images.join(", ")}]`);
        const members = (r.set?.members ?? [r.source]).map((m) => m.key).join(" | ");
        rows.push(line([r.set?.id ?? r.source.key, members, r.result.summary, differences.join(" | ")]));
      }
      break;
    case "custom":
      rows.push(line(["key", "answer"]));
      for (const r of records) {
        if (r.task !== "custom") continue;
        rows.push(line([r.source.key, "text" in r.result ? r.result.text : JSON.stringify(r.result.json)]));
      }
      break;
    case "detect":
    case "segment":
      rows.push(line(["key", "width", "height", "label", "x0", "y0", "x1", "y1", "area"]));
      for (const r of records) {
        const { key, width, height } = r.source;
        const objects = locatedObjects(r) ?? [];
        if (objects.length === 0) rows.push(line([key, width, height, "", "", "", "", "", ""]));
        for (const o of objects) {
          const area = r.task === "segment" ? (o.area ?? "") : (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]);
          rows.push(line([key, width, height, o.label, ...o.box, area]));
        }
      }
      break;
  }
  return rows.join("");
}
