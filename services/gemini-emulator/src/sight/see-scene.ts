// Finds the shapes of a synthetic scene (generateScene, makeScene): distinct saturated colours on
// a plain background. Not a model: anything that is not such a scene is reported as not a scene.
import { estimateBackground } from "./background.ts";
import { findColourClusters } from "./colour-clusters.ts";
import { shapeColourName } from "./colour-words.ts";
import type { Raster, Rgb } from "./raster.ts";
import { distance2 } from "./raster.ts";
import type { Line, Region } from "./regions.ts";
import { findRegions, linesFor } from "./regions.ts";
import type { ShapeKind } from "./shape-kind.ts";
import { classifyShape } from "./shape-kind.ts";

export interface SeenShape {
  /** "red", "magenta", ... */
  colour: string;
  kind: ShapeKind;
  /** "<colour> <kind>", as generateScene labels its objects. */
  label: string;
  rgb: Rgb;
  /** Tight bounds in the looked-at raster, pixel edges: x0 <= x < x1, y0 <= y < y1. */
  box: [number, number, number, number];
  /** Pixels inside. */
  area: number;
  /** Centre of the box, as fractions of the image's width and height. */
  centre: { x: number; y: number };
  /**
   * Probability map over the box, row-major, 0..255: above 127 exactly on the shape's pixels,
   * with the edge blends' share of the colour just outside (soft edges, as a model's maps have).
   */
  map: Uint8Array;
}

export interface SceneView {
  /** Size of the raster looked at. */
  width: number;
  height: number;
  background: { rgb: Rgb; colour: string };
  /** False for anything that is not shapes on a plain background (a photo): then no shapes. */
  isScene: boolean;
  /** Largest first; ties in reading order. */
  shapes: SeenShape[];
}

/** Regions smaller than this share of the image (or 12 pixels) are specks, not shapes. */
const MIN_SHAPE_SHARE = 0.0003;
/** At least this much of a scene is plain background. */
const MIN_BACKGROUND_SHARE = 0.3;
/** At most this much of a scene is neither background, nor a shape, nor a shape's edge. */
const MAX_UNEXPLAINED_SHARE = 0.03;
/** Pixels this close to the background colour count as background (JPEG noise included). */
const BACKGROUND_TOLERANCE = 40;
const MAX_SHAPES = 40;
/** Edge blends lie within this many pixels of their shape. */
const EDGE_REACH = 2;
/** Pixels at least this far along the line count as the shape's own colour, for naming it. */
const CORE_T = 0.85;

export function seeScene(raster: Raster): SceneView {
  const { width, height } = raster;
  const size = width * height;
  const bg = estimateBackground(raster);
  const background = { rgb: bg, colour: shapeColourName(bg) };
  const minArea = Math.max(12, Math.ceil(size * MIN_SHAPE_SHARE));
  const clusters = findColourClusters(raster, bg, Math.max(3, Math.ceil(minArea / 6)));
  const lines = linesFor(bg, clusters);
  const { regions, label } = findRegions(raster, lines, minArea);
  const notScene: SceneView = { width, height, background, isScene: false, shapes: [] };
  if (regions.length > MAX_SHAPES || !looksLikeScene(raster, bg, label)) return notScene;
  const shapes = regions.map((region, index) =>
    describe(raster, lines[region.cluster]!, region, index, label),
  );
  shapes.sort((a, b) => b.area - a.area || a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  return { width, height, background, isScene: true, shapes };
}

function looksLikeScene(raster: Raster, bg: Rgb, label: Int32Array): boolean {
  const { width, height, data } = raster;
  const size = width * height;
  let backgroundCount = 0;
  let unexplained = 0;
  for (let i = 0; i < size; i++) {
    if (distance2(bg, data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!) < BACKGROUND_TOLERANCE ** 2) {
      backgroundCount++;
    } else if (label[i] === -1 && !nearShape(label, width, height, i)) {
      unexplained++;
    }
  }
  return backgroundCount >= size * MIN_BACKGROUND_SHARE && unexplained <= size * MAX_UNEXPLAINED_SHARE;
}

/** Edge blends around a shape are explained by it: anything within two pixels of one. */
function nearShape(label: Int32Array, width: number, height: number, i: number): boolean {
  const x = i % width;
  const y = (i - x) / width;
  for (let ny = Math.max(0, y - EDGE_REACH); ny <= Math.min(height - 1, y + EDGE_REACH); ny++) {
    for (let nx = Math.max(0, x - EDGE_REACH); nx <= Math.min(width - 1, x + EDGE_REACH); nx++) {
      if (label[ny * width + nx] !== -1) return true;
    }
  }
  return false;
}

function describe(raster: Raster, line: Line, region: Region, index: number, label: Int32Array): SeenShape {
  const { width, data } = raster;
  const [x0, y0, x1, y1] = region.box;
  const bw = x1 - x0;
  const map = new Uint8Array(bw * (y1 - y0));
  let n = 0;
  let [r, g, b] = [0, 0, 0];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * width + x;
      const share = line.share(data, i);
      let value = 0;
      if (label[i] === index) {
        value = Math.max(128, Math.min(255, Math.round(share * 255)));
        if (share >= CORE_T) {
          n++;
          r += data[i * 3]!;
          g += data[i * 3 + 1]!;
          b += data[i * 3 + 2]!;
        }
      } else if (label[i] === -1 && share > 0) {
        value = Math.min(127, Math.round(share * 255));
      }
      map[(y - y0) * bw + (x - x0)] = value;
    }
  }
  const rgb = n === 0 ? line.colour : { r: r / n, g: g / n, b: b / n };
  const colour = shapeColourName(rgb);
  const kind = classifyShape(region.pixels, width, region.box);
  return {
    colour,
    kind,
    label: `${colour} ${kind}`,
    rgb,
    box: region.box,
    area: region.pixels.length,
    centre: { x: (x0 + x1) / 2 / width, y: (y0 + y1) / 2 / raster.height },
    map,
  };
}
