import { describe, expect, it } from "vitest";
import { fitsSchema } from "./schema-check.ts";

const detect = {
  type: "array",
  maxItems: 2,
  items: {
    type: "object",
    properties: {
      box_2d: { type: "array", items: { type: "integer" }, minItems: 4, maxItems: 4 },
      label: { type: "string", enum: ["red circle", "blue square"] },
    },
    required: ["box_2d", "label"],
  },
};

describe("fitsSchema", () => {
  it("accepts what the JSON Schema allows and refuses the rest", () => {
    expect(fitsSchema(detect, [{ box_2d: [1, 2, 3, 4], label: "red circle" }])).toBe(true);
    expect(fitsSchema(detect, [{ box_2d: [1, 2, 3], label: "red circle" }])).toBe(false);
    expect(fitsSchema(detect, [{ box_2d: [1, 2, 3, 4.5], label: "red circle" }])).toBe(false);
    expect(fitsSchema(detect, [{ box_2d: [1, 2, 3, 4], label: "green" }])).toBe(false);
    expect(fitsSchema(detect, [{ box_2d: [1, 2, 3, 4] }])).toBe(false);
    const three = Array.from({ length: 3 }, () => ({ box_2d: [1, 2, 3, 4], label: "red circle" }));
    expect(fitsSchema(detect, three)).toBe(false);
  });

  it("reads the OpenAPI dialect of responseSchema: upper-case types and nullable", () => {
    const schema = {
      type: "OBJECT",
      properties: { n: { type: "INTEGER", nullable: true } },
      required: ["n"],
    };
    expect(fitsSchema(schema, { n: 3 })).toBe(true);
    expect(fitsSchema(schema, { n: null })).toBe(true);
    expect(fitsSchema(schema, { n: "3" })).toBe(false);
  });

  it("follows local references, alternatives and closed objects", () => {
    const schema = {
      $defs: { n: { type: "number", minimum: 0, maximum: 1 } },
      type: "object",
      properties: { p: { $ref: "#/$defs/n" }, q: { anyOf: [{ type: "string" }, { type: "null" }] } },
      additionalProperties: false,
    };
    expect(fitsSchema(schema, { p: 0.5, q: null })).toBe(true);
    expect(fitsSchema(schema, { p: 2 })).toBe(false);
    expect(fitsSchema(schema, { q: 1 })).toBe(false);
    expect(fitsSchema(schema, { r: 1 })).toBe(false);
  });
});
