// Publishes the annotation and manifest schemas as JSON Schema for consumers outside TypeScript.
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { annotationSchema } from "./annotation.ts";
import { manifestLineSchema } from "./manifest.ts";

const docs = new URL("../../../docs/", import.meta.url);
for (const [name, schema] of [
  ["annotation.schema.json", annotationSchema],
  ["manifest-line.schema.json", manifestLineSchema],
] as const) {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12" });
  writeFileSync(new URL(name, docs), JSON.stringify(json, null, 2) + "\n");
  console.log(`wrote docs/${name}`);
}
