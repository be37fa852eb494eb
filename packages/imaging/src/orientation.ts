/**
 * The eight EXIF orientations (TIFF tag 0x0112) as the transform from the pixels a file stores to
 * the image a person sees. Every format's rotation metadata (JPEG/PNG/WebP/TIFF EXIF, HEIF
 * irot/imir) is reduced to one of these, so sizing and coordinate mapping have one code path.
 *
 * 1 as stored, 2 mirrored left-right, 3 rotated 180, 4 mirrored top-bottom, 5 transposed,
 * 6 rotated 90 clockwise, 7 transversed, 8 rotated 90 anticlockwise.
 */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface Size {
  width: number;
  height: number;
}

export function isOrientation(value: unknown): value is Orientation {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 8;
}

/** Orientations 5 to 8 turn the image a quarter, so width and height trade places. */
export function swapsAxes(orientation: Orientation): boolean {
  return orientation >= 5;
}

export function orientedSize(stored: Size, orientation: Orientation): Size {
  return swapsAxes(orientation) ? { width: stored.height, height: stored.width } : { ...stored };
}

// Each orientation as a 2x2 matrix [a, b, c, d] acting on (x, y) with y pointing down:
// x' = a*x + b*y, y' = c*x + d*y. Composition is matrix multiplication, inversion is transposition.
type Matrix = readonly [number, number, number, number];

const MATRICES: Record<Orientation, Matrix> = {
  1: [1, 0, 0, 1],
  2: [-1, 0, 0, 1],
  3: [-1, 0, 0, -1],
  4: [1, 0, 0, -1],
  5: [0, 1, 1, 0],
  6: [0, -1, 1, 0],
  7: [0, -1, -1, 0],
  8: [0, 1, -1, 0],
};

const ORIENTATIONS: readonly Orientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

function fromMatrix(m: Matrix): Orientation {
  const found = ORIENTATIONS.find((o) => MATRICES[o].every((v, i) => v === m[i]));
  if (found === undefined) throw new Error(`not an orientation matrix: ${m.join(",")}`);
  return found;
}

function multiply(p: Matrix, q: Matrix): Matrix {
  return [
    p[0] * q[0] + p[1] * q[2],
    p[0] * q[1] + p[1] * q[3],
    p[2] * q[0] + p[3] * q[2],
    p[2] * q[1] + p[3] * q[3],
  ];
}

/** The orientation that applies `first`, then `second`. */
export function composeOrientations(first: Orientation, second: Orientation): Orientation {
  return fromMatrix(multiply(MATRICES[second], MATRICES[first]));
}

export function invertOrientation(orientation: Orientation): Orientation {
  const [a, b, c, d] = MATRICES[orientation];
  return fromMatrix([a, c, b, d]);
}

/**
 * HEIF's transformative item properties in the order the item lists them. `irot` turns
 * anticlockwise by angle * 90 degrees; `imir` axis 0 exchanges top and bottom, axis 1 left and
 * right (what libheif, libvips and the 2022 edition of ISO/IEC 23008-12 do; sharp writes EXIF
 * orientation 2 as imir axis 1).
 */
export type HeifTransform = { kind: "irot"; angle: number } | { kind: "imir"; axis: number };

export function orientationFromHeif(transforms: readonly HeifTransform[]): Orientation {
  let result: Orientation = 1;
  for (const t of transforms) {
    let step: Orientation;
    if (t.kind === "irot") {
      const quarterTurnsAnticlockwise = ((t.angle % 4) + 4) % 4;
      step = ([1, 8, 3, 6] as const)[quarterTurnsAnticlockwise]!;
    } else {
      step = t.axis % 2 === 0 ? 4 : 2;
    }
    result = composeOrientations(result, step);
  }
  return result;
}

/**
 * Maps a point of the stored pixel grid to the displayed image. Coordinates are continuous (pixel
 * edges: x runs from 0 to width), so a box maps to a box and a round trip is exact.
 */
export function storedToDisplay(
  orientation: Orientation,
  stored: Size,
  x: number,
  y: number,
): [number, number] {
  const [a, b, c, d] = MATRICES[orientation];
  // Rotate about the origin, then shift the result back into the positive quadrant.
  const display = orientedSize(stored, orientation);
  const dx = a * x + b * y + (a + b < 0 ? display.width : 0);
  const dy = c * x + d * y + (c + d < 0 ? display.height : 0);
  return [dx, dy];
}

/** The inverse of storedToDisplay; `stored` is still the stored size. */
export function displayToStored(
  orientation: Orientation,
  stored: Size,
  x: number,
  y: number,
): [number, number] {
  return storedToDisplay(invertOrientation(orientation), orientedSize(stored, orientation), x, y);
}
