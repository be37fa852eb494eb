// `pnpm bench <scenario...|all> [--quick] [--<knob> <value>...]`: runs scenarios one after the
// other (never two at once: they would measure each other), prints a table per scenario and
// writes bench/results/<scenario>.json.
import { closeS3Clients } from "@tessera/storage";
import { table, writeResult } from "./harness/report.ts";
import type { Scenario } from "./scenario.ts";
import { ingestScenario } from "./scenarios/ingest.ts";
import { overheadScenario } from "./scenarios/overhead.ts";
import { rateLimitScenario } from "./scenarios/rate-limit.ts";
import { tokensScenario } from "./scenarios/tokens.ts";
import { workerMemoryScenario } from "./scenarios/worker-memory.ts";
import { workerStressScenario } from "./scenarios/worker-stress.ts";

const SCENARIOS: Scenario[] = [
  overheadScenario,
  rateLimitScenario,
  tokensScenario,
  ingestScenario,
  workerMemoryScenario,
  workerStressScenario,
];

function usage(): string {
  const lines = [
    "usage: pnpm bench <scenario...|all> [--quick] [--<knob> <value>...]",
    "  --quick   small sizes and one run: checks a scenario works, figures are not meaningful",
    "",
  ];
  for (const s of SCENARIOS) {
    lines.push(`${s.name}: ${s.summary}`);
    for (const [name, knob] of Object.entries(s.knobs))
      lines.push(`  --${name} <n>  ${knob.help} (default ${knob.default}, quick ${knob.quick})`);
  }
  return lines.join("\n");
}

function parseArgs(argv: string[]): { names: string[]; quick: boolean; values: Map<string, number> } {
  const names: string[] = [];
  const values = new Map<string, number>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") quick = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(usage());
      process.exit(0);
    } else if (arg.startsWith("--")) {
      const text = argv[++i];
      const value = Number(text);
      if (text === undefined || !Number.isFinite(value) || value < 0)
        throw new Error(`${arg}: expected a number >= 0, got ${text ?? "nothing"}`);
      values.set(arg.slice(2), value);
    } else names.push(arg);
  }
  return { names, quick, values };
}

async function main(): Promise<void> {
  const { names, quick, values } = parseArgs(process.argv.slice(2));
  if (names.length === 0) throw new Error(`name a scenario\n${usage()}`);
  const chosen = names.includes("all")
    ? SCENARIOS
    : names.map((n) => {
        const s = SCENARIOS.find((x) => x.name === n);
        if (s === undefined)
          throw new Error(`unknown scenario "${n}" (known: ${SCENARIOS.map((x) => x.name).join(", ")}, all)`);
        return s;
      });
  for (const name of values.keys()) {
    if (!chosen.some((s) => name in s.knobs))
      throw new Error(`--${name}: no chosen scenario has this knob\n${usage()}`);
  }
  for (const scenario of chosen) {
    const knobs: Record<string, number> = {};
    for (const [name, knob] of Object.entries(scenario.knobs))
      knobs[name] = values.get(name) ?? (quick ? knob.quick : knob.default);
    console.error(`\n== ${scenario.name}: ${JSON.stringify(knobs)}`);
    const startedAt = new Date();
    const result = await scenario.run(knobs);
    result.conditions = { knobs, quick, ...result.conditions };
    console.log(`\n${scenario.name}\n${table(result)}`);
    for (const note of result.notes ?? []) console.log(`  - ${note}`);
    console.log(`  -> ${writeResult(scenario.name, result, startedAt)}`);
  }
  closeS3Clients();
}

try {
  await main();
} catch (error) {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
