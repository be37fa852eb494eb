import { defineScenario } from "../scenario.ts";
export const rateLimitScenario = defineScenario({ name: "rate-limit", summary: "todo", knobs: {}, run: () => Promise.reject(new Error("todo")) });
