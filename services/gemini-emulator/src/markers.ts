// The fault grammar shared by image markers, the x-tessera-fault header, `failNext` and the CLI:
// comma-separated names, some with an argument, e.g. "503", "429:3", "fence,prose,truncate:5",
// "latency:250,reset".
import type { ContentFault, ErrorFault } from "./faults.ts";
import { ERROR_FAULTS, FAULT_NAMES, SAFETY_FAULTS, SHAPE_FAULTS, isErrorFault } from "./faults.ts";

export const FAULT_HEADER = "x-tessera-fault";
/** The PNG text keyword, and the `tessera-fault=` prefix anywhere else in a file. */
export const MARKER_KEY = "tessera-fault";

/** What one request asks for; everything optional, so "no marker" is `{}`. */
export interface FaultSpec {
  error?: ErrorFault;
  /** With error "429": this request and the next `burst - 1` get 429. */
  burst?: number;
  latencyMs?: number;
  content?: ContentFault[];
  truncateTokens?: number;
}

export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaultSpecError";
  }
}

const GRAMMAR =
  `faults are comma-separated: ${[...ERROR_FAULTS, ...SAFETY_FAULTS, ...SHAPE_FAULTS].join(", ")}, ` +
  '"latency:MS"; "429:N" makes a burst of N, "truncate:N" cuts at N tokens';

export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  const content = new Set<ContentFault>();
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const [name = "", argument, extra] = item.split(":");
    if (extra !== undefined) throw new FaultSpecError(`"${item}" has more than one argument; ${GRAMMAR}`);
    const number = (minimum: number): number => {
      const value = Number(argument);
      if (argument === undefined || !/^\d+$/.test(argument) || value < minimum) {
        throw new FaultSpecError(`"${item}" needs an integer >= ${minimum} after the colon; ${GRAMMAR}`);
      }
      return value;
    };
    const noArgument = () => {
      if (argument !== undefined) throw new FaultSpecError(`"${name}" takes no argument; ${GRAMMAR}`);
    };
    if (name === "latency") {
      spec.latencyMs = number(0);
    } else if (isErrorFault(name)) {
      if (spec.error !== undefined && spec.error !== name) {
        throw new FaultSpecError(`"${spec.error}" and "${name}" cannot both answer one request`);
      }
      spec.error = name;
      if (name === "429" && argument !== undefined) spec.burst = number(1);
      else noArgument();
    } else if (name === "truncate") {
      content.add(name);
      if (argument !== undefined) spec.truncateTokens = number(1);
    } else if ((FAULT_NAMES as readonly string[]).includes(name)) {
      noArgument();
      content.add(name as ContentFault);
    } else {
      throw new FaultSpecError(`unknown fault "${name}"; ${GRAMMAR}`);
    }
  }
  if (content.has("block") && content.has("safety")) {
    throw new FaultSpecError('"block" (no answer at all) and "safety" (a stopped answer) exclude each other');
  }
  if (content.size > 0) spec.content = [...content];
  return spec;
}

/** Several markers on one request: the first error (in reading order) wins, content faults add up. */
export function mergeFaultSpecs(specs: readonly FaultSpec[]): FaultSpec {
  const merged: FaultSpec = {};
  const content = new Set<ContentFault>();
  for (const spec of specs) {
    if (merged.error === undefined && spec.error !== undefined) {
      merged.error = spec.error;
      if (spec.burst !== undefined) merged.burst = spec.burst;
    }
    if (spec.latencyMs !== undefined) merged.latencyMs = Math.max(merged.latencyMs ?? 0, spec.latencyMs);
    merged.truncateTokens ??= spec.truncateTokens;
    for (const fault of spec.content ?? []) content.add(fault);
  }
  if (content.has("block")) content.delete("safety");
  if (content.size > 0) merged.content = [...content];
  return merged;
}

/** Names for the log and the stats, in the grammar's own spelling. */
export function describeFaults(error: ErrorFault | undefined, content: readonly ContentFault[]): string[] {
  return [...(error === undefined ? [] : [error]), ...content];
}
