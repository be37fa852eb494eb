// Rewrites the environment table in docs/configuration.md from the schema (`pnpm docs:config`).
import { readFileSync, writeFileSync } from "node:fs";
import { renderConfigurationTable } from "./configuration-doc.ts";

const file = new URL("../../../docs/configuration.md", import.meta.url);
const doc = readFileSync(file, "utf8");
const updated = doc.replace(
  /(<!-- env-table:start[^\n]*-->\n)[\s\S]*?(\n<!-- env-table:end -->)/,
  (_all, start: string, end: string) => `${start}${renderConfigurationTable()}${end}`,
);
if (updated === doc && !doc.includes("env-table:start"))
  throw new Error("docs/configuration.md has no env-table markers");
writeFileSync(file, updated);
console.log("wrote docs/configuration.md");
