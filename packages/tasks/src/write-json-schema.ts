// Publishes the annotation (with per-task results) and manifest schemas as JSON Schema for
// consumers outside TypeScript (`pnpm docs:schema`).
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { manifestLineSchema } from "@tessera/core";
import { annotationFileSchema } from "./registry.ts";

export const PUBLISHED_SCHEMAS = [
  ["annotation.schema.json", annotationFileSchema],
  ["manifest-line.schema.json", manifestLineSchema],
] as const;

export function jsonSchemaOf(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { target: "draft-2020-12", io: "output", unrepresentable: "any" });
}

if (import.meta.main) {
  const docs = new URL("../../../docs/", import.meta.url);
  for (const [name, schema] of PUBLISHED_SCHEMAS) {
    writeFileSync(new URL(name, docs), JSON.stringify(jsonSchemaOf(schema), null, 2) + "\n");
    console.log(`wrote docs/${name}`);
  }
}
