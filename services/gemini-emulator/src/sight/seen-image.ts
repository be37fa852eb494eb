// One image of a request as sight saw it.
import type { ImageAnalysis } from "../image.ts";
import type { SceneView, SeenShape } from "./see-scene.ts";

export interface SeenImage {
  /** The colour analysis every answer starts from (display size, main colours). */
  analysis: ImageAnalysis;
  /** Undefined when the pixels cannot be decoded here (HEVC-coded HEIC). */
  view: SceneView | undefined;
}

/** The shapes of a synthetic scene, largest first; none for anything else. */
export function shapesOf(image: SeenImage): SeenShape[] {
  return image.view?.isScene === true ? image.view.shapes : [];
}

/** A synthetic scene with at least one shape: what sight has something to say about. */
export function hasShapes(image: SeenImage): boolean {
  return shapesOf(image).length > 0;
}
