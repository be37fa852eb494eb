import type { Rgb, SceneObject } from "@tessera/testing";
import sharp from "sharp";

/** The answers a model that sees perfectly would give for one sent image. */
export interface SeenAnswers {
  /** A detect answer: a JSON list of {box_2d, label}. */
  detect: string;
  /** A segment answer: {box_2d, mask, label} with 256x256 probability-map PNGs. */
  segment: string;
}

const MASK_SIDE = 256;

/**
 * Plays the model for synthetic scenes: finds each object by its colour in the pixels that were
 * actually sent and answers the way Gemini does: box_2d on the 0..1000 grid of the sent image,
 * masks as 256x256 maps over the box whatever its shape. It never looks at the ground truth's
 * coordinates, so a sent image that is not upright, or a transform that maps wrongly, shows up as
 * an error against the truth.
 */
export async function seeScene(
  sent: Buffer,
  objects: readonly SceneObject[],
  background: Rgb,
): Promise<SeenAnswers> {
  const { data, info } = await sharp(sent).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  // Edge pixels are blends of an object's colour and the background, and a blend of red and
  // white can be nearer to orange than to red: so each pixel is put on the background-to-colour
  // line it lies closest to, and belongs to that object when it is past the midpoint.
  const n = objects.length;
  const dirs = new Float64Array(n * 4);
  objects.forEach((o, k) => {
    const [dr, dg, db] = [o.rgb.r - background.r, o.rgb.g - background.g, o.rgb.b - background.b];
    dirs.set([dr, dg, db, dr * dr + dg * dg + db * db], k * 4);
  });
  const owner = new Int16Array(width * height).fill(-1);
  for (let i = 0; i < width * height; i++) {
    const pr = data[i * 3]! - background.r;
    const pg = data[i * 3 + 1]! - background.g;
    const pb = data[i * 3 + 2]! - background.b;
    let best = -1;
    let bestResidual = Infinity;
    let bestT = 0;
    for (let k = 0; k < n; k++) {
      const dr = dirs[k * 4]!;
      const dg = dirs[k * 4 + 1]!;
      const db = dirs[k * 4 + 2]!;
      const t = (pr * dr + pg * dg + pb * db) / dirs[k * 4 + 3]!;
      const residual = (pr - t * dr) ** 2 + (pg - t * dg) ** 2 + (pb - t * db) ** 2;
      if (residual < bestResidual) [best, bestResidual, bestT] = [k, residual, t];
    }
    if (bestT > 0.5) owner[i] = best;
  }
  // JPEG smears chroma at edges, so a few edge pixels of one shape pass for another colour; like
  // a person, keep each object's largest connected blob and ignore the specks.
  objects.forEach((_, k) => keepLargestBlob(owner, width, k));
  const detect: unknown[] = [];
  const segment: unknown[] = [];
  for (const [k, object] of objects.entries()) {
    let [x0, y0, x1, y1] = [width, height, 0, 0];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (owner[y * width + x] !== k) continue;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
      }
    }
    if (x1 <= x0) continue;
    const box2d = [
      Math.round((y0 / height) * 1000),
      Math.round((x0 / width) * 1000),
      Math.round((y1 / height) * 1000),
      Math.round((x1 / width) * 1000),
    ];
    detect.push({ box_2d: box2d, label: object.label });
    // The map covers the box as reported (on the 0..1000 grid), like the model's own.
    const bx0 = (box2d[1]! / 1000) * width;
    const by0 = (box2d[0]! / 1000) * height;
    const bw = ((box2d[3]! - box2d[1]!) / 1000) * width;
    const bh = ((box2d[2]! - box2d[0]!) / 1000) * height;
    const map = Buffer.alloc(MASK_SIDE * MASK_SIDE);
    for (let v = 0; v < MASK_SIDE; v++) {
      const y = Math.min(height - 1, Math.floor(by0 + ((v + 0.5) / MASK_SIDE) * bh));
      for (let u = 0; u < MASK_SIDE; u++) {
        const x = Math.min(width - 1, Math.floor(bx0 + ((u + 0.5) / MASK_SIDE) * bw));
        map[v * MASK_SIDE + u] = owner[y * width + x] === k ? 255 : 0;
      }
    }
    const png = await sharp(map, { raw: { width: MASK_SIDE, height: MASK_SIDE, channels: 1 } })
      .png()
      .toBuffer();
    segment.push({
      box_2d: box2d,
      mask: `data:image/png;base64,${png.toString("base64")}`,
      label: object.label,
    });
  }
  return { detect: JSON.stringify(detect), segment: JSON.stringify(segment) };
}

function keepLargestBlob(owner: Int16Array, width: number, k: number): void {
  const blob = new Int32Array(owner.length).fill(-1);
  const sizes: number[] = [];
  const stack = new Int32Array(owner.length);
  for (let start = 0; start < owner.length; start++) {
    if (owner[start] !== k || blob[start] !== -1) continue;
    const id = sizes.length;
    let size = 0;
    let top = 0;
    blob[start] = id;
    stack[top++] = start;
    const visit = (n: number): void => {
      if (owner[n] !== k || blob[n] !== -1) return;
      blob[n] = id;
      stack[top++] = n;
    };
    while (top > 0) {
      const i = stack[--top]!;
      size++;
      const x = i % width;
      if (x > 0) visit(i - 1);
      if (x < width - 1) visit(i + 1);
      if (i >= width) visit(i - width);
      if (i < owner.length - width) visit(i + width);
    }
    sizes.push(size);
  }
  const largest = sizes.indexOf(Math.max(...sizes));
  for (let i = 0; i < owner.length; i++) if (owner[i] === k && blob[i] !== largest) owner[i] = -1;
}
