import type { ScenarioResult } from "./harness/report.ts";

export interface Knob {
  default: number;
  /** The value under --quick: small enough to check a scenario works in a minute or two. */
  quick: number;
  help: string;
}

export interface Scenario<K extends string = string> {
  name: string;
  summary: string;
  knobs: Record<K, Knob>;
  run(knobs: Record<K, number>): Promise<ScenarioResult>;
}

/** Keeps the knob names of each scenario checked while the list holds them all. */
export function defineScenario<K extends string>(scenario: Scenario<K>): Scenario {
  return scenario;
}
