import type { CocoRle } from "../rle.ts";
import type { LocatedObject } from "./record.ts";

export interface PreviewOptions {
  /** The preview's longer side at most (default 1024): previews are for looking, not measuring. */
  maxSide?: number;
}

// Tableau 10: distinct on photos and for the common colour blindnesses.
const PALETTE: readonly [number, number, number][] = [
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
  [237, 201, 72],
  [176, 122, 161],
  [255, 157, 167],
  [156, 117, 95],
  [186, 176, 172],
];
const MASK_ALPHA = 110;

/** The same label gets the same colour in every preview of a run. */
export function labelColor(label: string): [number, number, number] {
  let hash = 2166136261;
  for (const ch of label) hash = Math.imul(hash ^ ch.codePointAt(0)!, 16777619) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.codePointAt(0)};`);
}

/**
 * The image upright (EXIF orientation applied), scaled down, with each object's mask tinted,
 * its box outlined and its label on a solid tag of the box's colour, as a PNG.
 */
export async function renderPreview(
  image: Buffer,
  objects: readonly LocatedObject[],
  options: PreviewOptions = {},
): Promise<Buffer> {
  // Loaded here, not at the top: the scan imports this package and must not pay for sharp.
  const [{ prepareImage }, { default: sharp }] = await Promise.all([
    import("@tessera/imaging"),
    import("sharp"),
  ]);
  const prepared = await prepareImage(image, {
    detail: "standard",
    maxSide: options.maxSide ?? 1024,
    convert: "convert",
    verify: false,
  });
  const { width, height } = prepared;
  const { scaleX, scaleY } = prepared.transform;
  const overlay = Buffer.alloc(width * height * 4);
  for (const o of objects) {
    if (o.rle !== undefined) paintRle(overlay, width, height, scaleX, scaleY, o.rle, labelColor(o.label));
  }
  const svg = boxesSvg(objects, width, height, scaleX, scaleY);
  return sharp(prepared.bytes)
    .composite([{ input: overlay, raw: { width, height, channels: 4 } }, { input: Buffer.from(svg) }])
    .png()
    .toBuffer();
}

/** Tints the preview pixels an RLE mask (in original pixels) covers, walking its runs. */
function paintRle(
  out: Buffer,
  width: number,
  height: number,
  scaleX: number,
  scaleY: number,
  rle: CocoRle,
  [r, g, b]: [number, number, number],
): void {
  const frameHeight = rle.size[0];
  let index = 0;
  rle.counts.forEach((count, i) => {
    let at = index;
    index += count;
    if (i % 2 === 0) return;
    for (let left = count; left > 0;) {
      const x = Math.floor(at / frameHeight);
      const y = at % frameHeight;
      const n = Math.min(left, frameHeight - y);
      const px = Math.min(width - 1, Math.floor(x * scaleX));
      const top = Math.min(height - 1, Math.floor(y * scaleY));
      const bottom = Math.min(height - 1, Math.floor((y + n - 1) * scaleY));
      for (let py = top; py <= bottom; py++) {
        const p = (py * width + px) * 4;
        out[p] = r;
        out[p + 1] = g;
        out[p + 2] = b;
        out[p + 3] = MASK_ALPHA;
      }
      at += n;
      left -= n;
    }
  });
}

function boxesSvg(
  objects: readonly LocatedObject[],
  width: number,
  height: number,
  sx: number,
  sy: number,
): string {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 300));
  const fontSize = Math.max(12, Math.round(Math.max(width, height) / 50));
  const pad = Math.round(fontSize / 4);
  const shapes = objects.map((o) => {
    const [r, g, b] = labelColor(o.label);
    const color = `rgb(${r},${g},${b})`;
    // Dark text on light tags, light text on dark ones.
    const ink = 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#000" : "#fff";
    const x = o.box[0] * sx;
    const y = o.box[1] * sy;
    const w = (o.box[2] - o.box[0]) * sx;
    const h = (o.box[3] - o.box[1]) * sy;
    const tagHeight = fontSize + 2 * pad;
    const tagWidth = Math.ceil(o.label.length * fontSize * 0.62) + 2 * pad;
    const tagX = Math.max(0, Math.min(x, width - tagWidth));
    // Above the box when there is room, otherwise just inside its top edge.
    const tagY = y - tagHeight >= 0 ? y - tagHeight : Math.min(y, height - tagHeight);
    return [
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`,
      `<rect x="${tagX}" y="${tagY}" width="${tagWidth}" height="${tagHeight}" fill="${color}"/>`,
      `<text x="${tagX + pad}" y="${tagY + pad + fontSize * 0.8}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}" fill="${ink}">${escapeXml(o.label)}</text>`,
    ].join("");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join("")}</svg>`;
}
