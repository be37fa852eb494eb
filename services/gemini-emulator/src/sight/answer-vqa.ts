// Answers to the questions sight can check on a synthetic scene:
// - counting: "How many <subject> ...?" -> "3." (the shapes the subject names; "colours" counts
//   the distinct colours of those shapes);
// - colour: "What colour is the <subject>?" -> "Red." / "Red and blue." ("the background" too);
// - shape: "What shape is the <subject>?" -> "A circle.";
// - presence: "Is there a <subject>?", "Are there any <subject>?", "Does the image contain
//   <subject>?" -> "Yes." / "No.".
// A subject is read as in labels: colours, shape kinds and "shape"/"object". Any other question,
// or a subject with a word sight does not know ("people"), gets the fallback: the image does not
// show the answer, then what it does show.
import { captionOf } from "./answer-caption.ts";
import type { Subject } from "./label-match.ts";
import { isKnown, names, readSubject } from "./label-match.ts";
import { capitalise, joinAnd, withArticle } from "./phrases.ts";
import type { SeenShape } from "./see-scene.ts";
import type { SeenImage } from "./seen-image.ts";
import { shapesOf } from "./seen-image.ts";

const VERB = "(?:is|are|was|were|do|does|can|could|appear|appears)";
const COUNT = new RegExp(`^how many (.+?)(?: ${VERB}\\b.*)?$`);
const COLOUR = /^(?:what|which) colou?rs? (?:is|are) (?:the )?(.+)$/;
const SHAPE = /^what shapes? (?:is|are) (?:the )?(.+)$/;
const THERE_IS = /^(?:is|are) there (.+?)(?: in (?:the|this) (?:image|picture|photo))?$/;
const CONTAINS = /^does (?:the|this) (?:image|picture|photo) (?:contain|show|have|include) (.+)$/;

export function answerQuestion(image: SeenImage, question: string): string {
  const q = question
    .toLowerCase()
    .trim()
    .replace(/[?.!]+$/, "")
    .replace(/\s+/g, " ");
  const shapes = shapesOf(image);
  const scene = image.view?.isScene === true;
  if (scene) {
    const answer = count(q, shapes) ?? colour(q, image, shapes) ?? kind(q, shapes) ?? presence(q, shapes);
    if (answer !== undefined) return answer;
  }
  return `The image does not show the answer. ${captionOf(image, "short")}`;
}

function count(q: string, shapes: readonly SeenShape[]): string | undefined {
  const match = COUNT.exec(q);
  if (match === null) return undefined;
  const words = match[1]!.split(" ");
  // "how many different colours": the distinct colours of the shapes the rest names.
  const colourWord = words.findIndex((word) => /^colou?rs$/.test(word));
  if (colourWord >= 0) {
    const rest = readSubject(
      words.filter((_, i) => i !== colourWord && !/^(different|distinct)$/.test(words[i]!)).join(" "),
    );
    const of = rest.words.length === 0 ? shapes : shapes.filter((shape) => names(rest, shape));
    if (rest.words.length > 0 && !isKnown(rest)) return undefined;
    return `${new Set(of.map((shape) => shape.colour)).size}.`;
  }
  const subject = readSubject(match[1]!);
  if (!isKnown(subject)) return undefined;
  return `${matching(subject, shapes).length}.`;
}

function colour(q: string, image: SeenImage, shapes: readonly SeenShape[]): string | undefined {
  const match = COLOUR.exec(q);
  if (match === null) return undefined;
  if (/^background$/.test(match[1]!)) return `${capitalise(image.view!.background.colour)}.`;
  const subject = readSubject(match[1]!);
  if (!isKnown(subject)) return undefined;
  const found = matching(subject, shapes);
  if (found.length === 0) return `There is no ${match[1]!} in the image.`;
  return `${capitalise(joinAnd([...new Set(found.map((shape) => shape.colour))]))}.`;
}

function kind(q: string, shapes: readonly SeenShape[]): string | undefined {
  const match = SHAPE.exec(q);
  if (match === null) return undefined;
  const subject = readSubject(match[1]!);
  if (!isKnown(subject)) return undefined;
  const found = matching(subject, shapes);
  if (found.length === 0) return `There is no ${match[1]!} in the image.`;
  return `${capitalise(joinAnd([...new Set(found.map((shape) => shape.kind))].map(withArticle)))}.`;
}

function presence(q: string, shapes: readonly SeenShape[]): string | undefined {
  const match = THERE_IS.exec(q) ?? CONTAINS.exec(q);
  if (match === null) return undefined;
  const subject = readSubject(match[1]!);
  if (!isKnown(subject)) return undefined;
  return matching(subject, shapes).length > 0 ? "Yes." : "No.";
}

function matching(subject: Subject, shapes: readonly SeenShape[]): SeenShape[] {
  return shapes.filter((shape) => names(subject, shape));
}
