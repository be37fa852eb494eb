import { describe, expect, it } from "vitest";
import { checkSchema, validateJson, type JsonSchema } from "./json-schema.ts";

describe("checkSchema", () => {
  it("accepts the subset Gemini supports", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $defs: { tag: { type: "string", enum: ["a", "b"] } },
      type: "object",
      title: "t",
      description: "d",
      properties: {
        tags: { type: "array", items: { $ref: "#/$defs/tag" }, minItems: 1, maxItems: 3 },
        score: { type: ["number", "null"], minimum: 0, maximum: 1 },
        when: { type: "string", format: "date-time" },
        either: { anyOf: [{ type: "integer" }, { type: "null" }] },
        pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }] },
      },
      required: ["tags"],
      propertyOrdering: ["tags", "score"],
      additionalProperties: false,
    };
    expect(checkSchema(schema)).toEqual({ ok: true, schema });
  });

  it("refuses keywords Gemini does not enforce and malformed values, naming where", () => {
    expect(checkSchema({ type: "object", properties: { a: { type: "string", pattern: "^x" } } })).toEqual({
      ok: false,
      errors: ['$.properties.a: unsupported keyword "pattern"'],
    });
    for (const keyword of [{ nullable: true }, { const: "a" }, { maxLength: 3 }, { uniqueItems: true }]) {
      expect(checkSchema({ type: "string", ...keyword })).toMatchObject({ ok: false });
    }
    expect(checkSchema({ type: "text" })).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^\$\.type: must be/)],
    });
    expect(checkSchema({ required: "a" })).toEqual({
      ok: false,
      errors: ["$.required: must be a list of property names"],
    });
    expect(checkSchema({ enum: [] })).toMatchObject({ ok: false });
    expect(checkSchema({ enum: ["a", true] })).toMatchObject({ ok: false });
    expect(checkSchema("string")).toEqual({ ok: false, errors: ["$: a schema must be an object"] });
    expect(checkSchema({ $ref: "#/$defs/missing" })).toEqual({
      ok: false,
      errors: ['$ref "#/$defs/missing" does not resolve'],
    });
    expect(checkSchema({ $ref: "https://example.com/s.json" })).toMatchObject({ ok: false });
    expect(
      checkSchema({
        $defs: { a: { type: "string" } },
        properties: { x: { $ref: "#/$defs/a", description: "d" } },
      }),
    ).toEqual({
      ok: false,
      errors: ["$.properties.x: a schema with $ref may have no other keywords but $-keywords"],
    });
  });

  it("refuses schemas nested deeper than the limit", () => {
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 70; i++) deep = { type: "array", items: deep };
    expect(checkSchema(deep)).toMatchObject({ ok: false, errors: [expect.stringMatching(/nested deeper/)] });
  });
});

describe("validateJson", () => {
  const schema: JsonSchema = {
    type: "object",
    properties: {
      label: { type: "string", enum: ["cat", "dog"] },
      count: { type: "integer", minimum: 0, maximum: 10 },
      score: { type: "number" },
      note: { type: ["string", "null"] },
      tags: { type: "array", items: { type: "string" }, maxItems: 2 },
    },
    required: ["label", "count"],
    additionalProperties: false,
  };

  it("accepts a valid value (integers count as numbers)", () => {
    expect(validateJson(schema, { label: "cat", count: 3, score: 2, note: null, tags: ["x"] })).toEqual([]);
    expect(validateJson(schema, { label: "dog", count: 0, note: "n" })).toEqual([]);
  });

  it("names every violation with its path", () => {
    expect(
      validateJson(schema, { label: "cow", count: 2.5, note: 5, tags: ["a", 1, "c"], extra: true }),
    ).toEqual([
      '$.label: expected one of "cat", "dog", got "cow"',
      "$.count: expected integer, got number",
      "$.note: expected string or null, got integer",
      "$.tags: 3 items, expected at most 2",
      "$.tags[1]: expected string, got integer",
      "$.extra: property not allowed",
    ]);
    expect(validateJson(schema, { count: 11 })).toEqual([
      '$: missing required property "label"',
      "$.count: 11 is above the maximum 10",
    ]);
    expect(validateJson(schema, [])).toEqual(["$: expected object, got array"]);
  });

  it("follows local references and alternatives", () => {
    const withRefs: JsonSchema = {
      $defs: {
        node: {
          type: "object",
          properties: { next: { anyOf: [{ $ref: "#/$defs/node" }, { type: "null" }] } },
        },
      },
      $ref: "#/$defs/node",
    };
    expect(validateJson(withRefs, { next: { next: null } })).toEqual([]);
    expect(validateJson(withRefs, { next: { next: 3 } })).toEqual([
      "$.next: matches none of the 2 alternatives",
    ]);
    // Gemini reads oneOf as anyOf: a value matching both alternatives is fine.
    const oneOf: JsonSchema = { oneOf: [{ type: "number" }, { type: "integer" }] };
    expect(validateJson(oneOf, 2)).toEqual([]);
    expect(validateJson(oneOf, "2")).toEqual(["$: matches none of the 2 alternatives"]);
  });

  it("checks tuples with prefixItems and allows extra properties unless refused", () => {
    const tuple: JsonSchema = {
      type: "array",
      prefixItems: [{ type: "string" }, { type: "integer" }],
      items: { type: "boolean" },
    };
    expect(validateJson(tuple, ["a", 1, true])).toEqual([]);
    expect(validateJson(tuple, [1, "a"])).toEqual([
      "$[0]: expected string, got integer",
      "$[1]: expected integer, got string",
    ]);
    expect(validateJson({ type: "object", properties: {} }, { any: 1 })).toEqual([]);
    expect(validateJson({ type: "object", additionalProperties: { type: "string" } }, { a: 1 })).toEqual([
      "$.a: expected string, got integer",
    ]);
  });
});
