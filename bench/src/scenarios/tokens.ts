import { imageTokens } from "@tessera/imaging";
import { makePhoto } from "../harness/images.ts";
import { startWorkers } from "../harness/processes.ts";
import type { Metric } from "../harness/report.ts";
import { MODEL, openBench, runAndWait } from "../harness/setup.ts";
import { defineScenario } from "../scenario.ts";

const GROUPS = {
  photo: [[4032, 3024]],
  "photo-dense": [[4032, 3024]],
  panorama: [
    [12000, 3000],
    [8000, 2000],
    [16000, 4000],
  ],
  mixed: [
    [640, 480],
    [1920, 1080],
    [3024, 4032],
    [1080, 1920],
    [2048, 2048],
    [300, 200],
    [1280, 720],
    [5000, 3333],
  ],
} as const satisfies Record<string, (readonly [number, number])[]>;
type Group = keyof typeof GROUPS;
// Camera-like content (a smooth scene plus sensor noise that downscaling averages away), except
// "photo-dense": detail at every scale (foliage, gravel), the worst case for bytes at standard.
const CONTENT: Record<Group, { grain: number; sensorNoise: number }> = {
  photo: { grain: 32, sensorNoise: 5 },
  "photo-dense": { grain: 12, sensorNoise: 0 },
  panorama: { grain: 32, sensorNoise: 5 },
  mixed: { grain: 32, sensorNoise: 5 },
};
const DETAILS = ["original", "standard", "low"] as const;

interface SentRecord {
  source: { key: string; bytes: number; width: number; height: number };
  sent: { bytes: number; width: number; height: number };
  usage: { imageTokens: number; promptTokens: number };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const tokensScenario = defineScenario({
  name: "tokens",
  summary:
    "image tokens and bytes sent per image: originals vs the detail policies; estimate vs the emulator's bill",
  knobs: {
    photos: { default: 8, quick: 2, help: "4032x3024 JPEG photos" },
    dense: { default: 4, quick: 1, help: "4032x3024 JPEG photos of dense texture (worst case for bytes)" },
    panoramas: { default: 3, quick: 1, help: "panoramas (12000x3000, 8000x2000, 16000x4000 in turn)" },
    mixed: { default: 8, quick: 3, help: "images of mixed sizes (640x480 ... 5000x3333 in turn)" },
  },
  async run({ photos, dense, panoramas, mixed }) {
    const bench = await openBench("tokens", { latencyMs: 0 });
    try {
      const counts: Record<Group, number> = {
        photo: photos,
        "photo-dense": dense,
        panorama: panoramas,
        mixed,
      };
      const keys: { key: string; group: Group; width: number; height: number }[] = [];
      for (const group of Object.keys(GROUPS) as Group[]) {
        const sizes = GROUPS[group];
        for (let i = 0; i < counts[group]; i++) {
          const [width, height] = sizes[i % sizes.length]!;
          keys.push({
            key: `${group}/${String(i).padStart(3, "0")}-${width}x${height}.jpg`,
            group,
            width,
            height,
          });
        }
      }
      const source = bench.bucket.storage("src");
      // One at a time: a 16000x4000 texture is large, and the machine is shared.
      for (const [i, k] of keys.entries()) {
        const body = await makePhoto({
          width: k.width,
          height: k.height,
          seed: i + 1,
          format: "jpeg",
          quality: 90,
          ...CONTENT[k.group],
        });
        await source.put(k.key, body, { contentType: "image/jpeg" });
      }

      const metrics: Metric[] = [];
      const put = (name: string, unit: string, value: number) =>
        metrics.push({ name, unit, samples: [value] });
      const byDetail = new Map<string, SentRecord[]>();
      const estimateGap: number[] = [];
      for (const detail of DETAILS) {
        await bench.resetRedis();
        const billedBefore = bench.emulator.stats.billedPromptTokens;
        const fleet = await startWorkers(1, 4, bench.env);
        const out = `out-${detail}`;
        const { run, summary } = await runAndWait(bench, out, ["--detail", detail]);
        await Promise.all(fleet.map((w) => w.stop()));
        if (summary.done !== keys.length)
          throw new Error(`${detail}: ${summary.done} of ${keys.length} annotated: ${run.stdout()}`);
        const billed = bench.emulator.stats.billedPromptTokens - billedBefore;
        const outStorage = bench.bucket.storage(`${out}/${summary.runId}/annotations`);
        const records: SentRecord[] = [];
        for await (const object of outStorage.list()) {
          records.push(JSON.parse((await outStorage.get(object.key)).toString("utf8")) as SentRecord);
        }
        byDetail.set(detail, records);
        put(`estimate - billed prompt tokens, ${detail}`, "tokens", summary.estimate_done_prompt - billed);
        estimateGap.push(
          Math.abs(summary.estimate_done_prompt - billed) + Math.abs(summary.tokens_prompt - billed),
        );
        console.error(
          `${detail}: estimate ${summary.estimate_done_prompt}, recorded ${summary.tokens_prompt}, emulator billed ${billed}`,
        );
      }
      const groupOf = (r: SentRecord) => r.source.key.split("/")[0] as Group;
      for (const group of Object.keys(GROUPS) as Group[]) {
        if (counts[group] === 0) continue;
        const original = byDetail.get("original")!.filter((r) => groupOf(r) === group);
        put(`${group}: source bytes`, "KB/image", mean(original.map((r) => r.source.bytes)) / 1000);
        put(
          `${group}: documented tokens of the original`,
          "tokens/image",
          mean(
            original.map(
              (r) => imageTokens({ width: r.source.width, height: r.source.height }, MODEL).tokens,
            ),
          ),
        );
        for (const detail of DETAILS) {
          const records = byDetail.get(detail)!.filter((r) => groupOf(r) === group);
          put(
            `${group}: image tokens, ${detail}`,
            "tokens/image",
            mean(records.map((r) => r.usage.imageTokens)),
          );
          put(`${group}: bytes sent, ${detail}`, "KB/image", mean(records.map((r) => r.sent.bytes)) / 1000);
        }
        const meanOf = (detail: string, field: (r: SentRecord) => number) =>
          mean(
            byDetail
              .get(detail)!
              .filter((r) => groupOf(r) === group)
              .map(field),
          );
        put(
          `${group}: tokens original / low`,
          "x",
          meanOf("original", (r) => r.usage.imageTokens) / meanOf("low", (r) => r.usage.imageTokens),
        );
        put(
          `${group}: bytes source / standard`,
          "x",
          meanOf("original", (r) => r.source.bytes) / meanOf("standard", (r) => r.sent.bytes),
        );
      }
      put(
        "estimate and record vs emulator bill, all details",
        "tokens off",
        estimateGap.reduce((a, b) => a + b, 0),
      );
      return {
        metrics,
        targets: [
          { metric: "photo: tokens original / low", op: ">=", value: 4, label: ">= 4x" },
          { metric: "photo: bytes source / standard", op: ">=", value: 10, label: ">= 10x" },
          { metric: "estimate and record vs emulator bill, all details", op: "==", value: 0, label: "exact" },
        ],
        conditions: {
          images: keys.map((k) => k.key),
          model: MODEL,
          content: CONTENT,
          jpegQuality: 90,
          runs: "one: token counts and bytes are deterministic",
          estimate:
            "estimate_done_prompt and tokens_prompt of the run hash against the emulator's billedPromptTokens",
        },
      };
    } finally {
      await bench.close();
    }
  },
});
