import type { Problem } from "./warnings.ts";

/** A key of an object or an index of an array, from the root of the answer's JSON. */
export type JsonPath = readonly (string | number)[];

export type Extraction =
  | {
      ok: true;
      /** Undefined only when the answer was cut off before any value completed. */
      value: unknown;
      problems: Problem[];
      /**
       * When the JSON was cut off and closed by us: the path of the deepest container we closed.
       * That container and its ancestors are incomplete; everything else in `value` is whole.
       */
      cutPath: JsonPath | undefined;
    }
  | { ok: false; problems: Problem[]; error: string };

const FENCE_OPEN = /```[A-Za-z0-9_-]*[ \t]*\r?\n?/;

/**
 * Finds the JSON in a model answer, however it arrived: bare, inside a ``` fence, with prose
 * around it, or cut off mid-way (then the complete values are kept and the rest is closed off,
 * and `cutPath` says where).
 */
export function extractJson(text: string): Extraction {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, problems: [], error: "empty answer" };
  const direct = tryParse(trimmed);
  if (direct.ok) return { ok: true, value: direct.value, problems: [], cutPath: undefined };

  const problems: Problem[] = [];
  let region = trimmed;
  let outside = "";
  const fence = FENCE_OPEN.exec(trimmed);
  if (fence) {
    const start = fence.index + fence[0].length;
    const close = trimmed.indexOf("```", start);
    region = close === -1 ? trimmed.slice(start) : trimmed.slice(start, close);
    outside = trimmed.slice(0, fence.index) + (close === -1 ? "" : trimmed.slice(close + 3));
    problems.push({ code: "fenced_json", message: "the JSON was inside a ``` fence" });
  }

  for (let at = nextOpening(region, 0); at !== -1; at = nextOpening(region, at + 1)) {
    const scan = scanValue(region, at);
    if (scan.complete) {
      const parsed = tryParse(region.slice(at, scan.end));
      if (!parsed.ok) continue;
      if ((outside + region.slice(0, at) + region.slice(scan.end)).trim() !== "") {
        problems.push({ code: "prose_around_json", message: "text before or after the JSON was ignored" });
      }
      return { ok: true, value: parsed.value, problems, cutPath: undefined };
    }
    // Everything after an unterminated value lies inside it: this is the answer, cut off.
    if ((outside + region.slice(0, at)).trim() !== "") {
      problems.push({ code: "prose_around_json", message: "text before the JSON was ignored" });
    }
    const repaired = repair(region, at, scan.cuts);
    problems.push({
      code: "truncated",
      message:
        repaired === undefined
          ? "the answer was cut off before any complete value"
          : "the answer was cut off; complete values kept",
    });
    return {
      ok: true,
      value: repaired?.value,
      problems,
      cutPath: repaired?.path ?? [],
    };
  }
  return { ok: false, problems, error: "no JSON found in the answer" };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function nextOpening(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") return i;
  }
  return -1;
}

interface Frame {
  kind: "{" | "[";
  /** Its key or index within its parent (undefined for the root). */
  at: string | number | undefined;
  /** Arrays: elements completed so far. */
  count: number;
  /** Objects: the last key read. */
  key: string | undefined;
  /** Objects: whether the next string is a key. */
  expectKey: boolean;
}

/** A place where the text could be cut and closed into valid JSON. */
interface Cut {
  end: number;
  /** The open containers at that point, outermost first. */
  stack: { kind: "{" | "["; at: string | number | undefined }[];
}

type Scan = { complete: true; end: number } | { complete: false; cuts: Cut[] };

/**
 * Walks one JSON value from `start` (a '{' or '['), string-aware but lenient about what lies
 * between delimiters (JSON.parse judges that later). Records every point where a value inside a
 * container has just completed, or a container has just opened, so a cut-off answer can be
 * closed at the latest such point.
 */
function scanValue(text: string, start: number): Scan {
  const stack: Frame[] = [];
  const cuts: Cut[] = [];
  const cut = (end: number): void => {
    cuts.push({ end, stack: stack.map((f) => ({ kind: f.kind, at: f.at })) });
  };
  let scalarStart = -1;
  let i = start;

  const completeValue = (end: number): boolean => {
    const top = stack.at(-1);
    if (top === undefined) return true;
    if (top.kind === "[") top.count++;
    cut(end);
    return false;
  };
  const childAt = (): string | number | undefined => {
    const top = stack.at(-1);
    if (top === undefined) return undefined;
    return top.kind === "[" ? top.count : top.key;
  };

  for (; i < text.length; i++) {
    const c = text[i]!;
    if (scalarStart !== -1) {
      if (/[A-Za-z0-9+\-.]/.test(c)) continue;
      scalarStart = -1;
      completeValue(i);
    }
    if (c === '"') {
      const close = stringEnd(text, i);
      if (close === -1) break;
      const top = stack.at(-1);
      if (top?.kind === "{" && top.expectKey) {
        top.key = text.slice(i + 1, close);
        top.expectKey = false;
      } else {
        completeValue(close + 1);
      }
      i = close;
    } else if (c === "{" || c === "[") {
      stack.push({ kind: c, at: childAt(), count: 0, key: undefined, expectKey: c === "{" });
      cut(i + 1);
    } else if (c === "}" || c === "]") {
      stack.pop();
      if (completeValue(i + 1)) return { complete: true, end: i + 1 };
    } else if (c === ",") {
      const top = stack.at(-1);
      if (top?.kind === "{") top.expectKey = true;
    } else if (/[A-Za-z0-9-]/.test(c)) {
      scalarStart = i;
    }
  }
  return { complete: false, cuts };
}

/** The index of the quote closing the string opened at `open`, or -1 when the text ends first. */
function stringEnd(text: string, open: number): number {
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (c === "\\") j++;
    else if (c === '"') return j;
  }
  return -1;
}

const CLOSER = { "{": "}", "[": "]" } as const;

function repair(text: string, start: number, cuts: Cut[]): { value: unknown; path: JsonPath } | undefined {
  // The latest cut keeps the most; an earlier one only matters if lenient scanning let through
  // something JSON.parse refuses.
  for (let k = cuts.length - 1; k >= 0; k--) {
    const { end, stack } = cuts[k]!;
    const closers = stack
      .map((f) => CLOSER[f.kind])
      .reverse()
      .join("");
    const parsed = tryParse(text.slice(start, end) + closers);
    if (parsed.ok) {
      const path = stack.slice(1).map((f) => f.at ?? "");
      return { value: parsed.value, path };
    }
  }
  return undefined;
}

/** Whether the value at `path` was cut off (it, or something inside it, was closed by us). */
export function isCut(cutPath: JsonPath | undefined, path: JsonPath): boolean {
  if (cutPath === undefined || cutPath.length < path.length) return false;
  return path.every((p, i) => cutPath[i] === p);
}
