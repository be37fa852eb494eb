import { defineScenario } from "../scenario.ts";
export const tokensScenario = defineScenario({ name: "tokens", summary: "todo", knobs: {}, run: () => Promise.reject(new Error("todo")) });
