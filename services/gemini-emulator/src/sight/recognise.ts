// Tells which Tessera task a request is, from its shape alone (docs/tasks.md, "Recognising a task
// from its request"): the prompt's opening words and the response schema. The emulator stands in
// for Google, so it must not import Tessera's task code; it reads requests as a model would.
import { isSchema } from "./schema-check.ts";

export type CaptionLength = "short" | "medium" | "long";

export type RecognisedTask =
  /** `keys`: the image keys of a keyed JSON answer; undefined for a plain-text caption. */
  | { task: "caption"; keys: string[] | undefined; length: CaptionLength }
  | { task: "classify"; keys: string[] | undefined; labels: string[]; multi: boolean }
  | { task: "vqa"; question: string }
  | { task: "detect" | "segment"; labels: string[] | undefined; maxItems: number | undefined }
  | { task: "compare"; question: string; keys: string[] };

export interface RequestShape {
  /** The instruction: the last text of the user turn. */
  prompt: string;
  responseMimeType: string;
  schema: unknown;
  imageCount: number;
}

type Schema = Record<string, unknown>;

export function recogniseTask(request: RequestShape): RecognisedTask | undefined {
  const { prompt, schema, imageCount } = request;
  const json = request.responseMimeType === "application/json";
  if (imageCount === 0) return undefined;

  if (
    /^Caption this image in [\s\S]*Answer with the caption only\.$/.test(prompt) &&
    schema === undefined &&
    !json
  ) {
    return { task: "caption", keys: undefined, length: captionLength(prompt) };
  }
  if (/^Caption each of the \d+ images above\b/.test(prompt) && json) {
    const keys = keyedMembers(schema, (member) => isSchema(propertiesOf(member).caption));
    return keys === undefined ? undefined : { task: "caption", keys, length: captionLength(prompt) };
  }

  if (/^Classify (this image\.|each of the \d+ images above\b)/.test(prompt) && json) {
    const single = classifyShape(schema);
    if (single !== undefined) return { task: "classify", keys: undefined, ...single };
    const keys = keyedMembers(schema, (member) => classifyShape(member) !== undefined);
    const first = keys === undefined ? undefined : classifyShape(propertiesOf(schema)[keys[0]!]);
    return keys === undefined || first === undefined ? undefined : { task: "classify", keys, ...first };
  }

  const question = /^Answer this question about the image: ([^\n]*)/.exec(prompt);
  if (question !== null && json && isSchema(propertiesOf(schema).answer)) {
    return { task: "vqa", question: question[1]!.trim() };
  }

  const spatial =
    /^Detect (?:all of the prominent items in the image|every instance of these items in the image: )/.test(
      prompt,
    )
      ? "detect"
      : /^Give the segmentation masks for /.test(prompt)
        ? "segment"
        : undefined;
  if (spatial !== undefined && json) {
    const items = isSchema(schema) && isSchema(schema.items) ? schema.items : {};
    const label = propertiesOf(items).label;
    const labels = stringEnum(label) ?? quotedLabels(prompt);
    const maxItems =
      isSchema(schema) && typeof schema.maxItems === "number" ? schema.maxItems : promptMax(prompt);
    return { task: spatial, labels, maxItems };
  }

  const set = /^([\s\S]*?)\s*The (\d+) images above are labelled /.exec(prompt);
  if (set !== null && json) {
    const properties = propertiesOf(schema);
    if (!isSchema(properties.summary) || !isSchema(properties.differences)) return undefined;
    const differences = properties.differences;
    const imageItems = propertiesOf(isSchema(differences.items) ? differences.items : {}).images;
    const enumKeys = isSchema(imageItems) ? stringEnum(imageItems.items) : undefined;
    const keys = enumKeys ?? Array.from({ length: imageCount }, (_, i) => `img_${i + 1}`);
    return { task: "compare", question: set[1]!.trim(), keys };
  }
  return undefined;
}

function captionLength(prompt: string): CaptionLength {
  if (/two or three sentences/.test(prompt)) return "medium";
  if (/paragraph/.test(prompt)) return "long";
  return "short";
}

function classifyShape(schema: unknown): { labels: string[]; multi: boolean } | undefined {
  const properties = propertiesOf(schema);
  const single = stringEnum(properties.label);
  if (single !== undefined) return { labels: single, multi: false };
  const multi = isSchema(properties.labels) ? stringEnum(properties.labels.items) : undefined;
  return multi === undefined ? undefined : { labels: multi, multi: true };
}

/** The member names of an object keyed by image ("img_1", ...) whose values all pass `test`. */
function keyedMembers(schema: unknown, test: (member: unknown) => boolean): string[] | undefined {
  const properties = propertiesOf(schema);
  const keys = Object.keys(properties);
  if (keys.length === 0 || !keys.every((key) => /^img_\d+$/.test(key) && test(properties[key])))
    return undefined;
  const ordering = isSchema(schema) && Array.isArray(schema.propertyOrdering) ? schema.propertyOrdering : [];
  return [
    ...ordering.filter((key): key is string => keys.includes(String(key))),
    ...keys.filter((k) => !ordering.includes(k)),
  ];
}

function propertiesOf(schema: unknown): Schema {
  return isSchema(schema) && isSchema(schema.properties) ? schema.properties : {};
}

function stringEnum(schema: unknown): string[] | undefined {
  if (!isSchema(schema) || !Array.isArray(schema.enum)) return undefined;
  const values = schema.enum.filter((value): value is string => typeof value === "string");
  return values.length > 0 ? values : undefined;
}

/** `...in the image: "car", "traffic light".` -> ["car", "traffic light"]: the prompt quotes labels as JSON strings. */
function quotedLabels(prompt: string): string[] | undefined {
  const list = /in the image: ((?:"(?:[^"\\]|\\.)*"(?:, )?)+)/.exec(prompt);
  if (list === null) return undefined;
  return [...list[1]!.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((match) => JSON.parse(match[0]) as string);
}

function promptMax(prompt: string): number | undefined {
  const match = /Return at most (\d+) items/.exec(prompt);
  return match === null ? undefined : Number(match[1]);
}
