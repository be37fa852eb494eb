// Golden files: each odd shape real answers take, recorded as the answer text
// (test/golden/<task>/<case>.txt) with what the request knew (<case>.meta.json: options, finishReason,
// image sizes), and the outcome Tessera must make of it (<case>.expected.json).
//
// A changed outcome fails. After a deliberate change, regenerate and review the diff:
//   UPDATE_GOLDEN=1 pnpm vitest run --project unit packages/tasks/src/golden.test.ts
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isOrientation, orientedSize, transformFor } from "@tessera/imaging";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TASK_NAMES, type ParseContext, type ParseOutcome, type TaskName } from "./contract.ts";
import { bindTask, type TaskResult } from "./registry.ts";
import { decodeRle } from "./rle.ts";

const GOLDEN = fileURLToPath(new URL("../test/golden/", import.meta.url));
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

const sizeSchema = z.tuple([z.number().int().positive(), z.number().int().positive()]);
const metaSchema = z
  .object({
    /** The task's options as a user would give them (defaults filled in by the task). */
    options: z.record(z.string(), z.unknown()).optional(),
    model: z.string().default("gemini-2.5-flash"),
    finishReason: z.string().optional(),
    images: z
      .array(
        z.object({
          label: z.string(),
          /** Display size [width, height] of the original, after EXIF orientation. */
          original: sizeSchema,
          /** Size sent [width, height]; default the original's. */
          sent: sizeSchema.optional(),
          orientation: z.number().int().refine(isOrientation).default(1),
        }),
      )
      .min(1),
  })
  .strict();

function contextOf(meta: z.output<typeof metaSchema>): ParseContext {
  return {
    images: meta.images.map((image) => {
      const original = { width: image.original[0], height: image.original[1] };
      const sent = image.sent === undefined ? original : { width: image.sent[0], height: image.sent[1] };
      const { orientation } = image;
      // The stored grid is the display turned back: orientation 5-8 swap the axes.
      return {
        label: image.label,
        transform: transformFor(orientedSize(original, orientation), orientation, original, sent),
      };
    }),
  };
}

/**
 * The outcome as stored in the expected file. Mask PNGs are checked here against their RLE (they
 * must hold the same pixels) and replaced by a note: their bytes depend on the zlib build, the
 * pixels do not.
 */
async function snapshot(outcome: ParseOutcome<TaskResult>): Promise<unknown> {
  const copy = structuredClone(outcome) as unknown as { perImage: { ok: boolean; result?: unknown }[] };
  for (const image of copy.perImage) {
    const objects = (
      image.result as { objects?: { mask?: { png: string; rle: { size: [number, number] } } | null }[] }
    )?.objects;
    for (const object of objects ?? []) {
      const mask = object.mask;
      if (mask === undefined || mask === null || typeof mask.png !== "string") continue;
      const [height, width] = mask.rle.size;
      const pixels = await sharp(Buffer.from(mask.png, "base64")).extractChannel(0).raw().toBuffer();
      const expected = decodeRle(mask.rle as Parameters<typeof decodeRle>[0]);
      expect(pixels.length).toBe(width * height);
      expect(pixels.every((v, i) => (v === 255) === (expected[i] === 1))).toBe(true);
      mask.png = `<${width}x${height} PNG, same pixels as the RLE>`;
    }
  }
  return copy;
}

async function formatJson(path: string, value: unknown): Promise<string> {
  // The repository checks formatting with prettier; write what it would.
  const prettier = await import("prettier");
  const config = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(JSON.stringify(value), { ...config, filepath: path });
}

const tasks = readdirSync(GOLDEN).filter((entry) => !entry.startsWith("."));

it("golden directories are named after tasks", () => {
  expect(tasks.filter((t) => !(TASK_NAMES as readonly string[]).includes(t))).toEqual([]);
  expect(tasks.length).toBeGreaterThan(0);
});

for (const task of tasks) {
  const dir = join(GOLDEN, task);
  const files = readdirSync(dir);
  const cases = files.filter((f) => f.endsWith(".txt")).map((f) => f.slice(0, -".txt".length));

  describe(`golden ${task}`, () => {
    it("has no expected or meta file without its recorded answer", () => {
      const orphans = files.filter((f) => {
        const base = f.replace(/\.(expected|meta)\.json$/, "");
        return base !== f && !cases.includes(base);
      });
      expect(orphans).toEqual([]);
    });

    it.each(cases)("%s", async (name) => {
      const text = readFileSync(join(dir, `${name}.txt`), "utf8");
      const meta = metaSchema.parse(JSON.parse(readFileSync(join(dir, `${name}.meta.json`), "utf8")));
      const bound = bindTask(task as TaskName, meta.options ?? {}, meta.model);
      const outcome = await bound.parse({ text, finishReason: meta.finishReason }, contextOf(meta));
      const actual = await snapshot(outcome);
      const expectedPath = join(dir, `${name}.expected.json`);
      if (UPDATE) {
        writeFileSync(expectedPath, await formatJson(expectedPath, actual));
        return;
      }
      if (!existsSync(expectedPath)) {
        throw new Error(`${task}/${name}.expected.json is missing: run with UPDATE_GOLDEN=1 and review it`);
      }
      expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, "utf8")));
    });
  });
}
