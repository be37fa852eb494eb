// Image token math per Gemini model family. The figures are published estimates that Google has
// changed before, so they live in data (TOKEN_RULES) rather than in the arithmetic: a new family or
// a revised figure is one table row, and callers can pass their own rule for models we do not know.

export type MediaResolution = "LOW" | "MEDIUM" | "HIGH" | "ULTRA_HIGH";

export const MEDIA_RESOLUTIONS: readonly MediaResolution[] = ["LOW", "MEDIUM", "HIGH", "ULTRA_HIGH"];

/** Images up to `smallMaxSide` on both sides cost one tile; larger ones are cut into crop units. */
export interface TiledTokenRule {
  kind: "tiled";
  family: string;
  tokensPerTile: number;
  smallMaxSide: number;
  /** crop unit = floor(min(width, height) / divisor), then clamped to [min, max] when given. */
  cropUnit: { divisor: number; min?: number; max?: number };
  /**
   * Flat per-image costs that replace tiling when the caller asks for that resolution
   * (Gemini 2.5 documents LOW and MEDIUM; HIGH keeps the tiled count).
   */
  mediaResolution?: Partial<Record<MediaResolution, number>>;
}

/** A flat cost per image chosen by mediaResolution, whatever the image size (Gemini 3). */
export interface ResolutionTokenRule {
  kind: "resolution";
  family: string;
  tokens: Record<MediaResolution, number>;
  defaultResolution: MediaResolution;
}

export type TokenRule = TiledTokenRule | ResolutionTokenRule;

export interface ImageSize {
  width: number;
  height: number;
}

export interface ImageTokenOptions {
  mediaResolution?: MediaResolution;
}

export interface ImageTokenCount {
  tokens: number;
  /** How the image was tiled; null when it was charged as a single unit. */
  tiles: { cols: number; rows: number; cropUnit: number } | null;
}

export class UnknownModelError extends Error {
  readonly model: string;

  constructor(model: string) {
    super(
      `No image token rule for model "${model}": known families are ` +
        `${TOKEN_RULES.map((entry) => `${entry.prefix}*`).join(", ")}; pass an explicit TokenRule instead`,
    );
    this.name = "UnknownModelError";
    this.model = model;
  }
}

const GEMINI_2_TILED: TiledTokenRule = {
  kind: "tiled",
  family: "gemini-2",
  tokensPerTile: 258,
  smallMaxSide: 384,
  cropUnit: { divisor: 1.5 },
};

/** Ordered: the first prefix of the bare model id wins. */
export const TOKEN_RULES: readonly { prefix: string; rule: TokenRule }[] = [
  { prefix: "gemini-2.0-", rule: { ...GEMINI_2_TILED, family: "gemini-2.0" } },
  {
    prefix: "gemini-2.5-",
    rule: { ...GEMINI_2_TILED, family: "gemini-2.5", mediaResolution: { LOW: 64, MEDIUM: 256 } },
  },
  {
    prefix: "gemini-1.5-",
    rule: {
      kind: "tiled",
      family: "gemini-1.5",
      tokensPerTile: 258,
      smallMaxSide: 384,
      cropUnit: { divisor: 1.5, min: 256, max: 768 },
    },
  },
  {
    prefix: "gemini-3",
    rule: {
      kind: "resolution",
      family: "gemini-3",
      tokens: { LOW: 280, MEDIUM: 560, HIGH: 1120, ULTRA_HIGH: 2240 },
      defaultResolution: "HIGH",
    },
  },
];

/** Accepts "gemini-2.5-flash" as well as the API's resource form "models/gemini-2.5-flash". */
export function tokenRuleForModel(model: string): TokenRule {
  const id = model.startsWith("models/") ? model.slice("models/".length) : model;
  const entry = TOKEN_RULES.find((candidate) => id.startsWith(candidate.prefix));
  if (!entry) throw new UnknownModelError(model);
  return entry.rule;
}

/**
 * Maps both the short names and the API's wire values ("MEDIA_RESOLUTION_LOW", ...) to a
 * MediaResolution; "MEDIA_RESOLUTION_UNSPECIFIED" and anything unknown give undefined.
 */
export function parseMediaResolution(value: string): MediaResolution | undefined {
  const short = value.startsWith("MEDIA_RESOLUTION_") ? value.slice("MEDIA_RESOLUTION_".length) : value;
  return MEDIA_RESOLUTIONS.find((resolution) => resolution === short);
}

export function imageTokens(
  size: ImageSize,
  modelOrRule: string | TokenRule,
  opts: ImageTokenOptions = {},
): ImageTokenCount {
  assertPositiveInteger("width", size.width);
  assertPositiveInteger("height", size.height);
  const rule = typeof modelOrRule === "string" ? tokenRuleForModel(modelOrRule) : modelOrRule;

  if (rule.kind === "resolution") {
    return { tokens: rule.tokens[opts.mediaResolution ?? rule.defaultResolution], tiles: null };
  }

  const flat = opts.mediaResolution === undefined ? undefined : rule.mediaResolution?.[opts.mediaResolution];
  if (flat !== undefined) return { tokens: flat, tiles: null };

  const { width, height } = size;
  if (width <= rule.smallMaxSide && height <= rule.smallMaxSide) {
    return { tokens: rule.tokensPerTile, tiles: null };
  }

  let cropUnit = Math.floor(Math.min(width, height) / rule.cropUnit.divisor);
  if (rule.cropUnit.min !== undefined) cropUnit = Math.max(cropUnit, rule.cropUnit.min);
  if (rule.cropUnit.max !== undefined) cropUnit = Math.min(cropUnit, rule.cropUnit.max);
  // A 1-pixel-thin strip would give a crop unit of 0; the formula is meant as an upper bound, so
  // charge it at one tile per pixel instead of dividing by zero.
  cropUnit = Math.max(cropUnit, 1);

  const cols = Math.ceil(width / cropUnit);
  const rows = Math.ceil(height / cropUnit);
  return { tokens: cols * rows * rule.tokensPerTile, tiles: { cols, rows, cropUnit } };
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`image ${name} must be a positive integer, got ${String(value)}`);
  }
}
