import type { Command } from "commander";
import { UsageError } from "@tessera/core";
import {
  imageTokens,
  MEDIA_RESOLUTIONS,
  parseMediaResolution,
  tokenRuleForModel,
  UnknownModelError,
} from "@tessera/imaging";

interface TokensFlags {
  model: string;
  mediaResolution?: string;
  json?: boolean;
}

/** "960x540" -> {width: 960, height: 540}; anything else is a usage error naming the argument. */
export function parseSize(text: string): { width: number; height: number } {
  const match = /^(\d{1,6})[xX×](\d{1,6})$/.exec(text.trim());
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 1 || height < 1) {
    throw new UsageError(`size: expected <width>x<height> in pixels, e.g. 960x540, got "${text}"`);
  }
  return { width, height };
}

export function registerTokens(program: Command, _common?: (cmd: Command) => Command): void {
  program
    .command("tokens")
    .description("image tokens Gemini charges for an image of this size, and its tile grid")
    .argument("<size>", "image size in display pixels, e.g. 4032x3024")
    .option("--model <model>", "model whose rule applies", process.env.GEMINI_MODEL || "gemini-2.5-flash")
    .option("--media-resolution <level>", `Gemini 3 / 2.5 media resolution (${MEDIA_RESOLUTIONS.join(", ")})`)
    .option("--json", "print machine-readable output")
    .action((sizeText: string, flags: TokensFlags) => {
      const size = parseSize(sizeText);
      let resolution;
      if (flags.mediaResolution !== undefined) {
        resolution = parseMediaResolution(flags.mediaResolution.toUpperCase());
        if (!resolution) {
          throw new UsageError(
            `--media-resolution: expected one of ${MEDIA_RESOLUTIONS.join(", ")}, got "${flags.mediaResolution}"`,
          );
        }
      }
      let rule;
      try {
        rule = tokenRuleForModel(flags.model);
      } catch (err) {
        if (err instanceof UnknownModelError) throw new UsageError(`--model: ${err.message}`);
        throw err;
      }
      const count = imageTokens(size, rule, resolution ? { mediaResolution: resolution } : {});
      if (flags.json) {
        console.log(JSON.stringify({ model: flags.model, ...size, rule: rule.family, ...count }));
        return;
      }
      const grid = count.tiles
        ? `${count.tiles.cols} x ${count.tiles.rows} tiles (crop unit ${count.tiles.cropUnit} px)`
        : "one unit";
      console.log(`${size.width}x${size.height} on ${flags.model}: ${count.tokens} tokens, ${grid}`);
    });
}
