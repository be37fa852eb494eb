import { envSchema } from "./env.ts";

/** Renders the environment table of docs/configuration.md from the schema, so the two never drift. */
export function renderConfigurationTable(): string {
  const rows = Object.entries(envSchema.shape).map(([name, schema]) => {
    const parsed = schema.safeParse(undefined);
    const def = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : "(unset)";
    return `| \`${name}\` | ${def} | ${schema.description ?? ""} |`;
  });
  return ["| variable | default | why |", "|---|---|---|", ...rows].join("\n");
}
