// A last check that a sight answer fits the request's schema, in either dialect the API takes
// (`responseSchema`'s OpenAPI subset with upper-case types and `nullable`, or
// `responseJsonSchema`). The real API's constrained decoding never returns JSON outside the
// schema, so neither may the emulator: an answer that does not fit is replaced by the generic
// schema-filled one.

type Schema = Record<string, unknown>;

const MAX_DEPTH = 32;

export function fitsSchema(schema: unknown, value: unknown): boolean {
  return fits(schema, value, schema, 0);
}

function fits(node: unknown, value: unknown, root: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || !isSchema(node)) return depth <= MAX_DEPTH;
  const schema = resolve(node, root);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && !alternatives.some((option) => fits(option, value, root, depth + 1))) {
    return false;
  }
  if (value === null && schema.nullable === true) return true;
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return false;
  if (Object.hasOwn(schema, "const") && schema.const !== value) return false;
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter(
    (type): type is string => typeof type === "string",
  );
  if (types.length > 0 && !types.some((type) => hasType(type.toLowerCase(), value))) return false;
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) return false;
    if (typeof schema.maximum === "number" && value > schema.maximum) return false;
  }
  if (Array.isArray(value)) return arrayFits(schema, value, root, depth);
  if (isSchema(value)) return objectFits(schema, value, root, depth);
  return true;
}

function arrayFits(schema: Schema, value: unknown[], root: unknown, depth: number): boolean {
  const min = Number(schema.minItems ?? 0);
  const max = schema.maxItems === undefined ? Infinity : Number(schema.maxItems);
  if (value.length < min || value.length > max) return false;
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
  return value.every((item, i) => {
    const itemSchema: unknown = prefix[i] ?? schema.items;
    return itemSchema === undefined || fits(itemSchema, item, root, depth + 1);
  });
}

function objectFits(schema: Schema, value: Schema, root: unknown, depth: number): boolean {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  if (!required.every((name) => typeof name !== "string" || Object.hasOwn(value, name))) return false;
  return Object.entries(value).every(([name, member]) => {
    if (Object.hasOwn(properties, name)) return fits(properties[name], member, root, depth + 1);
    if (schema.additionalProperties === false) return false;
    return isSchema(schema.additionalProperties)
      ? fits(schema.additionalProperties, member, root, depth + 1)
      : true;
  });
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return isSchema(value);
    default:
      return true;
  }
}

/** Local references only ("#/$defs/Box", "#/definitions/Box"), as the API resolves them. */
function resolve(schema: Schema, root: unknown): Schema {
  let current = schema;
  for (let hops = 0; hops < MAX_DEPTH && typeof current.$ref === "string"; hops++) {
    const target = current.$ref
      .replace(/^#\/?/, "")
      .split("/")
      .filter((segment) => segment !== "")
      .reduce<unknown>(
        (node, segment) =>
          isSchema(node)
            ? node[decodeURIComponent(segment).replaceAll("~1", "/").replaceAll("~0", "~")]
            : undefined,
        root,
      );
    if (!isSchema(target)) return current;
    current = target;
  }
  return current;
}

export function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
