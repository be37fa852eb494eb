// Test support: SeenImages built by hand, so answer rules can be tested without decoding pixels.
import type { ImageAnalysis } from "../../image.ts";
import type { SeenShape } from "../see-scene.ts";
import type { SeenImage } from "../seen-image.ts";
import type { ShapeKind } from "../shape-kind.ts";

/** A solid shape in a 1000x1000 view; `box` is [x0, y0, x1, y1]. */
export function fakeShape(colour: string, kind: ShapeKind, box: [number, number, number, number]): SeenShape {
  const [x0, y0, x1, y1] = box;
  return {
    colour,
    kind,
    label: `${colour} ${kind}`,
    rgb: { r: 0, g: 0, b: 0 },
    box,
    area: (x1 - x0) * (y1 - y0),
    centre: { x: (x0 + x1) / 2000, y: (y0 + y1) / 2000 },
    map: new Uint8Array((x1 - x0) * (y1 - y0)).fill(255),
  };
}

/** A scene of `shapes` (listed largest first, as sight lists them) on a white background. */
export function fakeScene(shapes: SeenShape[], background = "white"): SeenImage {
  return {
    analysis: fakeAnalysis([{ name: background, hex: "#f5f5f0", share: 0.9 }]),
    view: {
      width: 1000,
      height: 1000,
      background: { rgb: { r: 245, g: 245, b: 240 }, colour: background },
      isScene: true,
      shapes,
    },
  };
}

/** A photo: sight found no scene, only the colour analysis speaks. */
export function fakePhoto(colours: { name: string; share: number }[]): SeenImage {
  const analysis = fakeAnalysis(colours.map((c) => ({ ...c, hex: "#808080" })));
  return {
    analysis,
    view: {
      width: 1000,
      height: 1000,
      background: { rgb: { r: 0, g: 0, b: 0 }, colour: "black" },
      isScene: false,
      shapes: [],
    },
  };
}

function fakeAnalysis(colours: { name: string; hex: string; share: number }[]): ImageAnalysis {
  return { width: 1000, height: 1000, colours: colours as ImageAnalysis["colours"] };
}
