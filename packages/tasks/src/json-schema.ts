/**
 * The subset of JSON Schema that Gemini's `responseJsonSchema` supports ($id, $defs, $ref,
 * $anchor, type, format, title, description, enum of strings and numbers, items, prefixItems,
 * minItems, maxItems, minimum, maximum, anyOf, oneOf, properties, additionalProperties, required,
 * and the non-standard propertyOrdering), as a type and a small validator. Tessera checks answers
 * against the schema it sent (fenced or cut-off answers escape the decoding constraints), and
 * checks user schemas (task `custom`) up front: a keyword Gemini ignores would constrain nothing,
 * so it is refused before anything is paid rather than failing answers afterwards.
 */
export type JsonType = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null";

export interface JsonSchema {
  type?: JsonType | JsonType[];
  title?: string;
  description?: string;
  format?: string;
  enum?: (string | number)[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyOrdering?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  $id?: string;
  $anchor?: string;
  /** Metadata only: accepted so schemas written by tools pass, not sent meaning anything. */
  $schema?: string;
}

const JSON_TYPES: ReadonlySet<string> = new Set([
  "string",
  "number",
  "integer",
  "boolean",
  "object",
  "array",
  "null",
]);
const SCHEMA_MAP_KEYS = new Set(["properties", "$defs"]);
const SCHEMA_LIST_KEYS = new Set(["prefixItems", "anyOf", "oneOf"]);
const NUMBER_KEYS = new Set(["minItems", "maxItems", "minimum", "maximum"]);
const STRING_KEYS = new Set(["title", "description", "format", "$ref", "$id", "$anchor", "$schema"]);

/** Limits nesting so a hostile schema or answer cannot exhaust the stack. */
const MAX_DEPTH = 64;

/**
 * Checks that `input` is a schema in the supported subset and returns it typed. Errors name the
 * path of the offending keyword, e.g. `$.properties.tags.items: unsupported keyword "pattern"`.
 */
export function checkSchema(
  input: unknown,
): { ok: true; schema: JsonSchema } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  checkNode(input, "$", errors, 0);
  if (errors.length === 0) {
    const refs = collectRefs(input as JsonSchema);
    for (const ref of refs) {
      if (resolveRef(input as JsonSchema, ref) === undefined) errors.push(`$ref "${ref}" does not resolve`);
    }
  }
  return errors.length === 0 ? { ok: true, schema: input as JsonSchema } : { ok: false, errors };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkNode(node: unknown, path: string, errors: string[], depth: number): void {
  if (depth > MAX_DEPTH) {
    errors.push(`${path}: nested deeper than ${MAX_DEPTH}`);
    return;
  }
  if (!isRecord(node)) {
    errors.push(`${path}: a schema must be an object`);
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    const at = `${path}.${key}`;
    if (key === "type") {
      const types = Array.isArray(value) ? (value as unknown[]) : [value];
      if (types.length === 0 || !types.every((t) => typeof t === "string" && JSON_TYPES.has(t))) {
        errors.push(`${at}: must be one of ${[...JSON_TYPES].join(", ")} (or a list of them)`);
      }
    } else if (STRING_KEYS.has(key)) {
      if (typeof value !== "string") errors.push(`${at}: must be a string`);
    } else if (NUMBER_KEYS.has(key)) {
      if (typeof value !== "number" || !Number.isFinite(value)) errors.push(`${at}: must be a number`);
    } else if (key === "enum") {
      const ok = (v: unknown): boolean =>
        typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
      if (!Array.isArray(value) || value.length === 0 || !value.every(ok)) {
        errors.push(`${at}: must be a non-empty list of strings and numbers`);
      }
    } else if (key === "required" || key === "propertyOrdering") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
        errors.push(`${at}: must be a list of property names`);
      }
    } else if (key === "items") {
      checkNode(value, at, errors, depth + 1);
    } else if (key === "additionalProperties") {
      if (typeof value !== "boolean") checkNode(value, at, errors, depth + 1);
    } else if (SCHEMA_MAP_KEYS.has(key)) {
      if (!isRecord(value)) errors.push(`${at}: must be an object of schemas`);
      else
        for (const [name, sub] of Object.entries(value)) checkNode(sub, `${at}.${name}`, errors, depth + 1);
    } else if (SCHEMA_LIST_KEYS.has(key)) {
      if (!Array.isArray(value) || value.length === 0)
        errors.push(`${at}: must be a non-empty list of schemas`);
      else value.forEach((sub: unknown, i) => checkNode(sub, `${at}[${i}]`, errors, depth + 1));
    } else {
      errors.push(`${path}: unsupported keyword "${key}"`);
    }
  }
  if ("$ref" in node && Object.keys(node).some((k) => !k.startsWith("$"))) {
    errors.push(`${path}: a schema with $ref may have no other keywords but $-keywords`);
  }
}

function collectRefs(node: JsonSchema, into: Set<string> = new Set()): Set<string> {
  if (node.$ref !== undefined) into.add(node.$ref);
  for (const sub of children(node)) collectRefs(sub, into);
  return into;
}

function children(node: JsonSchema): JsonSchema[] {
  return [
    ...Object.values(node.properties ?? {}),
    ...Object.values(node.$defs ?? {}),
    ...(node.items === undefined ? [] : [node.items]),
    ...(typeof node.additionalProperties === "object" ? [node.additionalProperties] : []),
    ...(node.prefixItems ?? []),
    ...(node.anyOf ?? []),
    ...(node.oneOf ?? []),
  ];
}

/** Local references only: "#" or "#/$defs/name" (what Gemini resolves). */
function resolveRef(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === "#") return root;
  const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
  if (!match) return undefined;
  const name = decodeURIComponent(match[1]!).replaceAll("~1", "/").replaceAll("~0", "~");
  return Object.hasOwn(root.$defs ?? {}, name) ? root.$defs![name] : undefined;
}

/**
 * Validates `value` against `schema` and returns the violations (empty: valid). Each names the
 * path of the offending value, e.g. `$.objects[2].label: expected one of "cat", "dog"`.
 */
export function validateJson(schema: JsonSchema, value: unknown): string[] {
  const errors: string[] = [];
  validateNode(schema, schema, value, "$", errors, 0);
  return errors;
}

function typeOf(value: unknown): JsonType | "other" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  return typeof value === "object" ? "object" : "other";
}

function typeMatches(expected: JsonType, actual: JsonType | "other"): boolean {
  return expected === actual || (expected === "number" && actual === "integer");
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function validateNode(
  root: JsonSchema,
  schema: JsonSchema,
  value: unknown,
  path: string,
  errors: string[],
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    errors.push(`${path}: nested deeper than ${MAX_DEPTH}`);
    return;
  }
  if (schema.$ref !== undefined) {
    const target = resolveRef(root, schema.$ref);
    if (target === undefined) errors.push(`${path}: $ref "${schema.$ref}" does not resolve`);
    else validateNode(root, target, value, path, errors, depth + 1);
  }
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, actual))) {
      errors.push(`${path}: expected ${types.join(" or ")}, got ${actual}`);
      return;
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    errors.push(`${path}: expected one of ${schema.enum.map(show).join(", ")}, got ${show(value)}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      errors.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      errors.push(`${path}: ${value} is above the maximum ${schema.maximum}`);
    }
  }
  if (Array.isArray(value)) validateArray(root, schema, value, path, errors, depth);
  else if (isRecord(value)) validateObject(root, schema, value, path, errors, depth);
  // Gemini reads oneOf as anyOf, so an answer matching several alternatives is what it produces.
  for (const options of [schema.anyOf, schema.oneOf]) {
    if (options === undefined) continue;
    const matches = options.some((option) => {
      const sub: string[] = [];
      validateNode(root, option, value, path, sub, depth + 1);
      return sub.length === 0;
    });
    if (!matches) errors.push(`${path}: matches none of the ${options.length} alternatives`);
  }
}

function validateArray(
  root: JsonSchema,
  schema: JsonSchema,
  value: unknown[],
  path: string,
  errors: string[],
  depth: number,
): void {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errors.push(`${path}: ${value.length} items, expected at least ${schema.minItems}`);
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push(`${path}: ${value.length} items, expected at most ${schema.maxItems}`);
  }
  const prefix = schema.prefixItems ?? [];
  value.forEach((item, i) => {
    const itemSchema = prefix[i] ?? schema.items;
    if (itemSchema !== undefined) validateNode(root, itemSchema, item, `${path}[${i}]`, errors, depth + 1);
  });
}

function validateObject(
  root: JsonSchema,
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
  errors: string[],
  depth: number,
): void {
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) errors.push(`${path}: missing required property "${name}"`);
  }
  for (const [name, item] of Object.entries(value)) {
    const at = `${path}.${name}`;
    if (Object.hasOwn(properties, name)) {
      validateNode(root, properties[name]!, item, at, errors, depth + 1);
    } else if (schema.additionalProperties === false) {
      errors.push(`${at}: property not allowed`);
    } else if (typeof schema.additionalProperties === "object") {
      validateNode(root, schema.additionalProperties, item, at, errors, depth + 1);
    }
  }
}
