import { defineScenario } from "../scenario.ts";
export const ingestScenario = defineScenario({ name: "ingest", summary: "todo", knobs: {}, run: () => Promise.reject(new Error("todo")) });
