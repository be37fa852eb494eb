// Sight: answers Tessera's tasks about synthetic scenes the way Gemini would, from the pixels the
// emulator received. Requests it does not recognise as a Tessera task return undefined and get
// the emulator's generic answer.
import type { ImageAnalysis } from "../image.ts";
import type { ParsedRequest } from "../request.ts";
import { captionOf } from "./answer-caption.ts";
import { classifyImage } from "./answer-classify.ts";
import { compareImages } from "./answer-compare.ts";
import { detectItems, segmentItems } from "./answer-spatial.ts";
import { answerQuestion } from "./answer-vqa.ts";
import type { MaskSize } from "./mask-png.ts";
import { decodeUpright } from "./raster.ts";
import type { RecognisedTask } from "./recognise.ts";
import { recogniseTask } from "./recognise.ts";
import { fitsSchema } from "./schema-check.ts";
import { seeScene } from "./see-scene.ts";
import type { SeenImage } from "./seen-image.ts";

export type { MaskSize } from "./mask-png.ts";

export interface SightOptions {
  /** Segmentation masks at the box's size ("box", the default) or as N x N maps (real models: 256). */
  maskSize?: MaskSize;
  /** Larger images are looked at scaled down to this longer side (default 1024). */
  maxSide?: number;
}

export const SIGHT_DEFAULTS = { maskSize: "box", maxSide: 1024 } as const satisfies Required<SightOptions>;

/** The answer text for a recognised Tessera task, or undefined for any other request. */
export async function sightAnswer(
  request: ParsedRequest,
  analyses: readonly ImageAnalysis[],
  options: SightOptions = {},
): Promise<string | undefined> {
  const task = recogniseTask({
    prompt: request.texts.at(-1) ?? "",
    responseMimeType: request.generation.responseMimeType,
    schema: request.generation.schema,
    imageCount: request.images.length,
  });
  if (task === undefined) return undefined;
  const maxSide = options.maxSide ?? SIGHT_DEFAULTS.maxSide;
  const images: SeenImage[] = [];
  for (const [index, image] of request.images.entries()) {
    const analysis = analyses[index]!;
    images.push({ analysis, view: analysis.colours === null ? undefined : await look(image.bytes, maxSide) });
  }
  const answer = await answerTask(task, images, options.maskSize ?? SIGHT_DEFAULTS.maskSize);
  if (typeof answer === "string") return answer;
  const { schema } = request.generation;
  return schema === undefined || fitsSchema(schema, answer) ? JSON.stringify(answer) : undefined;
}

/** Analysis already decoded these bytes once, so a failure here is sight's own: it sees nothing. */
async function look(bytes: Buffer, maxSide: number): Promise<SeenImage["view"]> {
  try {
    return seeScene(await decodeUpright(bytes, maxSide));
  } catch {
    return undefined;
  }
}

async function answerTask(
  task: RecognisedTask,
  images: readonly SeenImage[],
  maskSize: MaskSize,
): Promise<unknown> {
  const first = images[0]!;
  switch (task.task) {
    case "caption":
      if (task.keys === undefined) return captionOf(first, task.length);
      return keyed(task.keys, images, (image) => ({ caption: captionOf(image, task.length) }));
    case "classify": {
      const one = (image: SeenImage): unknown => {
        const labels = classifyImage(image, task.labels, task.multi);
        return task.multi ? { labels } : { label: labels[0] };
      };
      return task.keys === undefined ? one(first) : keyed(task.keys, images, one);
    }
    case "vqa":
      return { answer: answerQuestion(first, task.question) };
    case "detect":
      return detectItems(first, task.labels, task.maxItems);
    case "segment":
      return segmentItems(first, task.labels, task.maxItems, maskSize);
    case "compare":
      return compareImages(images, task.keys);
  }
}

/** One member per image key; keys beyond the images sent describe nothing and are left out. */
function keyed(
  keys: readonly string[],
  images: readonly SeenImage[],
  answer: (image: SeenImage) => unknown,
): unknown {
  return Object.fromEntries(
    keys.flatMap((key, i) => (images[i] === undefined ? [] : [[key, answer(images[i])]])),
  );
}
