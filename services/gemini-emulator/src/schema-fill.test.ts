import { describe, expect, it } from "vitest";
import type { ImageAnalysis } from "./image.ts";
import { fillSchema, pickEnum } from "./schema-fill.ts";

const red: ImageAnalysis = {
  width: 640,
  height: 480,
  colours: [
    { name: "red", hex: "#d01010", share: 0.7 },
    { name: "blue", hex: "#1030c0", share: 0.3 },
  ],
};
const green: ImageAnalysis = {
  width: 100,
  height: 50,
  colours: [{ name: "green", hex: "#00ff00", share: 1 }],
};
const one = { images: [red], description: "A red image." };
const two = { images: [red, green], description: "Two images." };

describe("fillSchema with the API's OpenAPI subset", () => {
  it("fills every property, in propertyOrdering order, with values of the declared types", () => {
    const schema = {
      type: "OBJECT",
      properties: {
        width: { type: "INTEGER" },
        caption: { type: "STRING" },
        dominantColor: { type: "STRING" },
        isPhoto: { type: "BOOLEAN" },
        confidence: { type: "NUMBER", minimum: 0, maximum: 0.9 },
        tags: { type: "ARRAY", items: { type: "STRING" } },
      },
      propertyOrdering: ["caption", "width"],
      required: ["caption"],
    };
    const value = fillSchema(schema, one);
    expect(value).toEqual({
      caption: "A red image.",
      width: 640,
      dominantColor: "red",
      isPhoto: false,
      confidence: 0.9,
      tags: ["red", "blue"],
    });
    expect(Object.keys(value as object).slice(0, 2)).toEqual(["caption", "width"]);
  });

  it("picks the enum value naming a colour the image has, else the first", () => {
    const schema = { type: "STRING", enum: ["cat", "mostly blue", "mostly red"] };
    expect(fillSchema(schema, one)).toBe("mostly red");
    expect(fillSchema({ type: "STRING", enum: ["cat", "dog"] }, one)).toBe("cat");
    expect(pickEnum([], ["red"])).toBeNull();
  });

  it("makes one array item per image for lists of objects, each about its own image", () => {
    const schema = {
      type: "ARRAY",
      items: {
        type: "OBJECT",
        properties: {
          label: { type: "STRING" },
          box_2d: { type: "ARRAY", items: { type: "INTEGER" } },
          height: { type: "INTEGER" },
        },
      },
    };
    expect(fillSchema(schema, two)).toEqual([
      { label: "red", box_2d: [0, 0, 1000, 1000], height: 480 },
      { label: "green", box_2d: [0, 0, 1000, 1000], height: 50 },
    ]);
  });

  it("honours minItems and maxItems", () => {
    expect(fillSchema({ type: "ARRAY", items: { type: "STRING" }, maxItems: 1 }, one)).toEqual(["red"]);
    expect(fillSchema({ type: "ARRAY", items: { type: "BOOLEAN" }, minItems: 3 }, one)).toEqual([
      false,
      false,
      false,
    ]);
  });
});

describe("fillSchema with JSON Schema", () => {
  it("follows $ref into $defs, type lists, const and anyOf", () => {
    const schema = {
      type: "object",
      $defs: {
        Size: { type: "object", properties: { width: { type: "integer" }, height: { type: "integer" } } },
      },
      properties: {
        size: { $ref: "#/$defs/Size" },
        kind: { const: "photo" },
        note: { type: ["null", "string"] },
        count: { anyOf: [{ type: "null" }, { type: "integer" }] },
      },
    };
    expect(fillSchema(schema, two)).toEqual({
      size: { width: 640, height: 480 },
      kind: "photo",
      note: "Two images.",
      count: 2,
    });
  });

  it("does not loop forever on a self-referencing schema", () => {
    const schema = { type: "object", properties: { child: { $ref: "#" } } };
    expect(() => JSON.stringify(fillSchema(schema, one))).not.toThrow();
  });

  it("cuts strings to maxLength", () => {
    expect(fillSchema({ type: "string", maxLength: 5 }, one)).toBe("A red");
  });
});
