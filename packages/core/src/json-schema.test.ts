import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { annotationSchema } from "./annotation.ts";
import { manifestLineSchema } from "./manifest.ts";

const docs = new URL("../../../docs/", import.meta.url);

describe("published JSON Schemas", () => {
  it.each([
    ["annotation.schema.json", annotationSchema],
    ["manifest-line.schema.json", manifestLineSchema],
  ] as const)("docs/%s matches the zod schema (regenerate with `pnpm docs:schema`)", (file, schema) => {
    const published: unknown = JSON.parse(readFileSync(new URL(file, docs), "utf8"));
    expect(published).toEqual(z.toJSONSchema(schema, { target: "draft-2020-12" }));
  });
});
