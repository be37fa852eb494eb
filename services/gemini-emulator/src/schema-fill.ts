// Builds a value that satisfies a response schema, filled from what the emulator saw, so JSON-mode
// callers get output that parses and validates. Handles both the API's OpenAPI subset
// (`responseSchema`: type "OBJECT", propertyOrdering, nullable) and JSON Schema
// (`responseJsonSchema`: lowercase types, type arrays, const, $ref into $defs), as far as
// string / number / integer / boolean / enum / object / array go.
import { describeImage } from "./caption.ts";
import type { ImageAnalysis } from "./image.ts";

export interface FillContext {
  images: readonly ImageAnalysis[];
  /** The whole answer in prose, used for strings that are not about one image. */
  description: string;
}

interface Scope {
  description: string;
  /** The image a value is about; the first one when the value covers several. */
  image: ImageAnalysis | undefined;
  imageCount: number;
  colourNames: string[];
  /** True inside an array item made for one image. */
  perImage: boolean;
}

type Schema = Record<string, unknown>;

const MAX_DEPTH = 16;

export function fillSchema(schema: unknown, context: FillContext): unknown {
  const scope: Scope = {
    description: context.description,
    image: context.images[0],
    imageCount: context.images.length,
    colourNames: [...new Set(context.images.flatMap(colourNamesOf))],
    perImage: false,
  };
  return fill(schema, scope, undefined, { root: schema, context, depth: 0 });
}

/** The enum value that names a colour seen in the image, else the first one. */
export function pickEnum(values: readonly unknown[], colourNames: readonly string[]): unknown {
  for (const colour of colourNames) {
    const match = values.find((value) => typeof value === "string" && value.toLowerCase().includes(colour));
    if (match !== undefined) return match;
  }
  return values[0] ?? null;
}

export function colourNamesOf(image: ImageAnalysis): string[] {
  return (image.colours ?? []).map((colour) => colour.name);
}

interface Walk {
  root: unknown;
  context: FillContext;
  depth: number;
}

function fill(node: unknown, scope: Scope, name: string | undefined, walk: Walk): unknown {
  if (walk.depth > MAX_DEPTH || !isSchema(node)) return null;
  const schema = resolveRef(node, walk.root);
  const deeper: Walk = { ...walk, depth: walk.depth + 1 };

  if (Object.hasOwn(schema, "const")) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return pickEnum(schema.enum, scope.colourNames);
  const branches = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (Array.isArray(branches)) {
    const options: unknown[] = branches;
    const branch = options.find((candidate) => schemaType(candidate, walk.root) !== "null") ?? options[0];
    return fill(branch, scope, name, deeper);
  }

  switch (schemaType(schema, walk.root)) {
    case "object":
      return fillObject(schema, scope, deeper);
    case "array":
      return fillArray(schema, scope, name, deeper);
    case "string":
      return fillString(schema, scope, name);
    case "number":
      return fillNumber(schema, scope, name, false);
    case "integer":
      return fillNumber(schema, scope, name, true);
    case "boolean":
      return false;
    case "null":
      return null;
    case undefined:
      return scope.description;
  }
}

function fillObject(schema: Schema, scope: Scope, walk: Walk): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const ordering = Array.isArray(schema.propertyOrdering)
    ? schema.propertyOrdering.filter((key): key is string => typeof key === "string" && key in properties)
    : [];
  const keys = [...ordering, ...Object.keys(properties).filter((key) => !ordering.includes(key))];
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = fill(properties[key], scope, key, walk);
  return out;
}

function fillArray(schema: Schema, scope: Scope, name: string | undefined, walk: Walk): unknown[] {
  const items = schema.items;
  const itemType = schemaType(items, walk.root);
  let values: unknown[];
  if (itemType === "object" && !scope.perImage && walk.context.images.length > 0) {
    // A list of objects reads as "one entry per thing seen": one per image.
    values = walk.context.images.map((image) => fill(items, imageScope(image, scope), name, walk));
  } else if (itemType === "string" && !hasEnum(items, walk.root)) {
    values = [...scope.colourNames];
  } else if ((itemType === "integer" || itemType === "number") && name !== undefined && /box/i.test(name)) {
    // A detection box around the whole image, in the API's [ymin, xmin, ymax, xmax] 0..1000 form.
    values = [0, 0, 1000, 1000];
  } else {
    values = [fill(items, scope, name, walk)];
  }
  const min = nonNegativeInteger(schema.minItems) ?? 0;
  const max = nonNegativeInteger(schema.maxItems) ?? Number.POSITIVE_INFINITY;
  while (values.length < min) values.push(fill(items, scope, name, walk));
  return values.slice(0, max);
}

function fillString(schema: Schema, scope: Scope, name: string | undefined): string {
  const key = name?.toLowerCase() ?? "";
  let value = scope.description;
  if (/colou?r|label|class|category/.test(key)) value = scope.colourNames[0] ?? "unknown";
  const maxLength = nonNegativeInteger(schema.maxLength);
  return maxLength === undefined ? value : value.slice(0, maxLength);
}

function fillNumber(schema: Schema, scope: Scope, name: string | undefined, integer: boolean): number {
  const key = name?.toLowerCase() ?? "";
  let value = 0;
  if (key.includes("width")) value = scope.image?.width ?? 0;
  else if (key.includes("height")) value = scope.image?.height ?? 0;
  else if (/count|number|num_|total/.test(key)) value = scope.perImage ? 1 : scope.imageCount;
  else if (/confidence|score|prob/.test(key)) value = 1;
  if (typeof schema.minimum === "number") value = Math.max(value, schema.minimum);
  if (typeof schema.maximum === "number") value = Math.min(value, schema.maximum);
  return integer ? Math.round(value) : value;
}

function imageScope(image: ImageAnalysis, parent: Scope): Scope {
  return {
    description: describeImage(image),
    image,
    imageCount: parent.imageCount,
    colourNames: colourNamesOf(image),
    perImage: true,
  };
}

type SchemaType = "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";
const SCHEMA_TYPES: readonly string[] = ["object", "array", "string", "number", "integer", "boolean", "null"];

/** Lowercases the OpenAPI-style names and picks the non-null member of a JSON Schema type list. */
function schemaType(node: unknown, root: unknown): SchemaType | undefined {
  if (!isSchema(node)) return undefined;
  const schema = resolveRef(node, root);
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  const declared = types.find((type) => type !== "null") ?? types[0];
  if (typeof declared === "string") {
    const lower = declared.toLowerCase();
    if (SCHEMA_TYPES.includes(lower)) return lower as SchemaType;
  }
  if (isSchema(schema.properties)) return "object";
  if (schema.items !== undefined) return "array";
  if (Array.isArray(schema.enum)) return "string";
  return undefined;
}

function hasEnum(node: unknown, root: unknown): boolean {
  return isSchema(node) && Array.isArray(resolveRef(node, root).enum);
}

/** Follows local references ("#/$defs/Box", "#/definitions/Box"); anything else is left as is. */
function resolveRef(schema: Schema, root: unknown): Schema {
  let current = schema;
  for (let hops = 0; hops < MAX_DEPTH && typeof current.$ref === "string"; hops += 1) {
    const target = current.$ref
      .replace(/^#\/?/, "")
      .split("/")
      .filter((segment) => segment !== "")
      .reduce<unknown>(
        (node, segment) =>
          isSchema(node) ? node[segment.replaceAll("~1", "/").replaceAll("~0", "~")] : undefined,
        root,
      );
    if (!isSchema(target)) return current;
    current = target;
  }
  return current;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}
