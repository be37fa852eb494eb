// Which pixels belong to which shape. Shapes are grown from their cores: pixels well inside a
// flat colour seed a region, which then takes in each neighbouring pixel that lies more than
// halfway along the line from the background to the region's colour. An edge pixel that is 30%
// red and 70% white is a blend, not a pink shape; it stays outside the red shape, while one that
// is 60% red joins it. Growing from cores (rather than naming every pixel on its own) keeps the
// blends at a purple shape's edge from passing for a magenta shape next to it.
import type { ColourCluster } from "./colour-clusters.ts";
import type { Raster, Rgb } from "./raster.ts";

export interface Region {
  cluster: number;
  /** Pixel indices, row-major. */
  pixels: Int32Array;
  /** Tight bounds, pixel edges: x0 <= x < x1, y0 <= y < y1. */
  box: [number, number, number, number];
}

export interface Regions {
  regions: Region[];
  /** Per pixel: the index of its region in `regions`, or -1. */
  label: Int32Array;
}

/** Closer than this to the background, a pixel is background for every shape. */
const BACKGROUND_NEAR = 20;
/** How far off the line a pixel may lie (JPEG moves edge chroma) before it is not that colour at all. */
const MIN_RESIDUAL = 50;
/** Seeds are this far along the line toward a colour. */
const CORE_T = 0.75;

/** The line from the background to one shape colour, along which edge pixels blend. */
export class Line {
  readonly background: Rgb;
  readonly colour: Rgb;
  readonly #dr: number;
  readonly #dg: number;
  readonly #db: number;
  readonly #length2: number;
  /** Squared distance off the line beyond which a pixel is not a blend of the two. */
  readonly #limit2: number;

  constructor(background: Rgb, colour: Rgb) {
    this.background = background;
    this.colour = colour;
    this.#dr = colour.r - background.r;
    this.#dg = colour.g - background.g;
    this.#db = colour.b - background.b;
    this.#length2 = this.#dr ** 2 + this.#dg ** 2 + this.#db ** 2 || 1;
    this.#limit2 = Math.max(MIN_RESIDUAL, Math.sqrt(this.#length2) / 2) ** 2;
  }

  /** Squared distance of pixel `i` from the line; Infinity when it is too far to be a blend. */
  residual2(data: Uint8Array, i: number): number {
    const t = this.t(data, i);
    const pr = data[i * 3]! - this.background.r - t * this.#dr;
    const pg = data[i * 3 + 1]! - this.background.g - t * this.#dg;
    const pb = data[i * 3 + 2]! - this.background.b - t * this.#db;
    const residual2 = pr * pr + pg * pg + pb * pb;
    return residual2 < this.#limit2 ? residual2 : Infinity;
  }

  /** Where pixel `i` lies along the line: 0 the background, 1 the colour. */
  t(data: Uint8Array, i: number): number {
    const pr = data[i * 3]! - this.background.r;
    const pg = data[i * 3 + 1]! - this.background.g;
    const pb = data[i * 3 + 2]! - this.background.b;
    return (pr * this.#dr + pg * this.#dg + pb * this.#db) / this.#length2;
  }

  /** How much of the colour pixel `i` holds, or -1 when it is no blend of the two at all. */
  share(data: Uint8Array, i: number): number {
    return this.residual2(data, i) === Infinity ? -1 : this.t(data, i);
  }
}

export function linesFor(background: Rgb, clusters: readonly ColourCluster[]): Line[] {
  return clusters.map((c) => new Line(background, c.rgb));
}

export function findRegions(raster: Raster, lines: readonly Line[], minArea: number): Regions {
  const { width, height, data } = raster;
  const size = width * height;
  const label = new Int32Array(size).fill(-1);
  const background = lines[0]?.background;
  if (background === undefined) return { regions: [], label };
  const core = new Int16Array(size).fill(-1);
  // Background pixels are most of a scene: settle them once, before any line is tried.
  const plain = new Uint8Array(size);
  const { r: br, g: bg, b: bb } = background;
  for (let i = 0; i < size; i++) {
    const dr = data[i * 3]! - br;
    const dg = data[i * 3 + 1]! - bg;
    const db = data[i * 3 + 2]! - bb;
    if (dr * dr + dg * dg + db * db < BACKGROUND_NEAR * BACKGROUND_NEAR) {
      plain[i] = 1;
      continue;
    }
    let best = -1;
    let bestResidual = Infinity;
    for (let k = 0; k < lines.length; k++) {
      const residual = lines[k]!.residual2(data, i);
      if (residual < bestResidual) {
        best = k;
        bestResidual = residual;
      }
    }
    if (best >= 0 && lines[best]!.t(data, i) >= CORE_T) core[i] = best;
  }

  // Seeds: connected cores of one colour, eroded by a pixel, because JPEG's halved chroma can
  // make a two-pixel band at an edge look like another colour's core. Then all regions grow at
  // once, breadth first, so a contested pixel goes to the nearest core.
  const seed = erode(core, width, height);
  const owner: number[] = [];
  const queue = new Int32Array(size);
  let tail = 0;
  for (let start = 0; start < size; start++) {
    const k = seed[start]!;
    if (k === -1 || label[start] !== -1) continue;
    const id = owner.length;
    owner.push(k);
    let head = tail;
    label[start] = id;
    queue[tail++] = start;
    while (head < tail) {
      const i = queue[head++]!;
      const x = i % width;
      const y = (i - x) / width;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const n = ny * width + nx;
          if (label[n] !== -1 || seed[n] !== k) continue;
          label[n] = id;
          queue[tail++] = n;
        }
      }
    }
  }
  for (let head = 0; head < tail; head++) {
    const i = queue[head]!;
    const id = label[i]!;
    const line = lines[owner[id]!]!;
    const x = i % width;
    const y = (i - x) / width;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
        const n = ny * width + nx;
        if (label[n] !== -1 || plain[n] === 1 || line.share(data, n) <= 0.5) continue;
        label[n] = id;
        queue[tail++] = n;
      }
    }
  }

  // JPEG ringing can cut one shape's core in two; the halves meet while growing.
  const root = mergeTouching(label, owner, width, height);
  const counts = new Int32Array(owner.length);
  for (let i = 0; i < size; i++) if (label[i] !== -1) counts[root(label[i]!)]! += 1;
  const renumber = new Int32Array(owner.length).fill(-1);
  const regions: Region[] = [];
  const members: Int32Array[] = [];
  owner.forEach((k, id) => {
    if (counts[id]! < minArea) return;
    renumber[id] = regions.length;
    members.push(new Int32Array(counts[id]!));
    regions.push({ cluster: k, pixels: members.at(-1)!, box: [width, height, 0, 0] });
  });
  const filled = new Int32Array(regions.length);
  for (let i = 0; i < size; i++) {
    if (label[i] === -1) continue;
    const index = renumber[root(label[i]!)]!;
    label[i] = index;
    if (index === -1) continue;
    const region = regions[index]!;
    region.pixels[filled[index]!++] = i;
    const x = i % width;
    const y = (i - x) / width;
    const box = region.box;
    if (x < box[0]) box[0] = x;
    if (y < box[1]) box[1] = y;
    if (x + 1 > box[2]) box[2] = x + 1;
    if (y + 1 > box[3]) box[3] = y + 1;
  }
  return { regions, label };
}

/** Keeps the pixels whose eight neighbours all have the same colour as they do. */
function erode(core: Int16Array, width: number, height: number): Int16Array {
  const out = new Int16Array(core.length).fill(-1);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const k = core[i]!;
      if (
        k !== -1 &&
        core[i - 1] === k &&
        core[i + 1] === k &&
        core[i - width - 1] === k &&
        core[i - width] === k &&
        core[i - width + 1] === k &&
        core[i + width - 1] === k &&
        core[i + width] === k &&
        core[i + width + 1] === k
      ) {
        out[i] = k;
      }
    }
  }
  return out;
}

/** Union-find over regions of one colour that touch; returns each region's representative. */
function mergeTouching(
  label: Int32Array,
  owner: readonly number[],
  width: number,
  height: number,
): (id: number) => number {
  const parent = owner.map((_, id) => id);
  const find = (id: number): number => {
    while (parent[id] !== id) {
      parent[id] = parent[parent[id]!]!;
      id = parent[id]!;
    }
    return id;
  };
  const union = (a: number, b: number): void => {
    if (b === -1 || b === a || owner[a] !== owner[b]) return;
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = label[y * width + x]!;
      if (a === -1) continue;
      if (x + 1 < width) union(a, label[y * width + x + 1]!);
      if (y + 1 < height) {
        union(a, label[(y + 1) * width + x]!);
        if (x + 1 < width) union(a, label[(y + 1) * width + x + 1]!);
        if (x > 0) union(a, label[(y + 1) * width + x - 1]!);
      }
    }
  }
  return find;
}
