// The emulator's deterministic "model output": derived from the images alone, so a test can
// predict it exactly from the image it sent.
import type { ImageAnalysis } from "./image.ts";
import type { ColourShare } from "./palette.ts";

/** Colours below this share of the image are noise, not worth a mention. */
const MENTION_SHARE = 0.1;
const MAX_SECONDARY = 2;

export function describeImage(image: ImageAnalysis): string {
  const size = `A ${image.width}x${image.height} image`;
  if (image.colours === null)
    return `${size}; the emulator cannot decode its pixels, so its colours are unknown.`;
  const [main, ...rest] = image.colours;
  if (main === undefined) return `${size}, fully transparent.`;
  const secondary = rest.filter((colour) => colour.share >= MENTION_SHARE).slice(0, MAX_SECONDARY);
  const tail = secondary.length === 0 ? "" : `, with ${secondary.map(mention).join(" and ")}`;
  return `${size}, mostly ${mention(main)}${tail}.`;
}

/** One sentence for one image; "Image N: ..." per image when there are several. */
export function describeImages(images: readonly ImageAnalysis[]): string {
  if (images.length === 0) return "There is no image in this request to describe.";
  if (images.length === 1) return describeImage(images[0]!);
  return images.map((image, index) => `Image ${index + 1}: ${describeImage(image)}`).join(" ");
}

function mention(colour: ColourShare): string {
  return `${colour.name} (${colour.hex})`;
}
