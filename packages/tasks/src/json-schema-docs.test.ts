import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsonSchemaOf, PUBLISHED_SCHEMAS } from "./write-json-schema.ts";

const docs = new URL("../../../docs/", import.meta.url);

describe("published JSON Schemas", () => {
  it.each(PUBLISHED_SCHEMAS)(
    "docs/%s matches the zod schema (regenerate with `pnpm docs:schema`)",
    (file, schema) => {
      const published: unknown = JSON.parse(readFileSync(new URL(file, docs), "utf8"));
      expect(published).toEqual(jsonSchemaOf(schema));
    },
  );
});
