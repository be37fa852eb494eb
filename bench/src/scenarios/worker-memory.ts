import { defineScenario } from "../scenario.ts";
export const workerMemoryScenario = defineScenario({ name: "worker-memory", summary: "todo", knobs: {}, run: () => Promise.reject(new Error("todo")) });
