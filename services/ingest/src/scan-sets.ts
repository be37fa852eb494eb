import pLimit from "p-limit";
import { createHash } from "node:crypto";
import { errorMessage } from "@tessera/core";
import { estimateRequestTokens, sentSize } from "@tessera/imaging/header";
import type { EnqueueItem, ImageRef } from "@tessera/queue";
import type { Storage } from "@tessera/storage";
import { requestTexts } from "@tessera/tasks";
import { classifyObject } from "./classify.ts";
import { setJobId } from "./job-ids.ts";
import {
  DEFAULT_PROBE_CONCURRENCY,
  emptyFigures,
  type ScanFigures,
  type ScanPlan,
  type ScanSink,
} from "./scan.ts";
import { usesOf, type ImageSet } from "./sets.ts";

const ENQUEUE_BATCH = 500;

/**
 * The scan of a compare run: its items are the sets, not the listing. Each set's members are
 * looked up (HEAD) and probed from their headers; a set whose member is missing, not an image or
 * broken fails with that member named, the others are enqueued one request each. An image that
 * several sets share carries its number of uses, so the worker uploads it once (Files API).
 * `images` in the figures counts sets: they are what the run waits for.
 */
export async function scanSets(
  sink: ScanSink,
  plan: ScanPlan,
  sets: readonly ImageSet[],
  source: Storage,
  now: () => Date,
  options: { probeConcurrency?: number } = {},
): Promise<ScanFigures & { cancelled: boolean }> {
  const limit = pLimit(options.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY);
  const uses = usesOf(sets);
  const figures = emptyFigures();
  let batch: EnqueueItem<"annotate">[] = [];

  const member = async (key: string): Promise<ImageRef | string> => {
    try {
      const object = await source.head(key);
      if (!object) return "not found";
      const classified = await classifyObject(source, object, plan.convert);
      if (classified.kind !== "image") return classified.reason;
      const { probe } = classified;
      figures.formats[probe.format] = (figures.formats[probe.format] ?? 0) + 1;
      return {
        key,
        etag: object.etag,
        size: object.size,
        mime: probe.mime,
        width: probe.displayWidth,
        height: probe.displayHeight,
        uses: uses.get(key) ?? 1,
      };
    } catch (err) {
      return `could not read the object's header: ${errorMessage(err)}`;
    }
  };

  const handle = async (set: ImageSet) => {
    figures.listed++;
    figures.images++;
    if (await sink.earlierOutcome(set.id)) return;
    const members = await Promise.all(set.keys.map(member));
    const bad = members.findIndex((m) => typeof m === "string");
    if (bad !== -1) {
      const reason = members[bad] as string;
      figures.brokenReasons[reason] = (figures.brokenReasons[reason] ?? 0) + 1;
      await sink.record({
        key: set.id,
        etag: setEtag(set),
        members: set.keys,
        status: "failed",
        error: { class: "bad_image", message: `member ${set.keys[bad]}: ${reason}` },
        at: now().toISOString(),
      });
      return;
    }
    const refs = members as ImageRef[];
    const texts = requestTexts(plan.task.build(refs.length));
    const sizes = refs.map((r) => sentSize({ width: r.width!, height: r.height! }, plan.detail));
    const tokens = estimateRequestTokens(plan.model, sizes, texts);
    figures.estimatedPromptTokens += tokens;
    figures.imageTokens.push(tokens);
    figures.requests++;
    batch.push({
      jobId: setJobId(plan.runId, set.id),
      payload: { runId: plan.runId, images: refs, set: { id: set.id } },
    });
    if (batch.length >= ENQUEUE_BATCH) {
      const items = batch;
      batch = [];
      await sink.enqueue(items);
    }
  };

  await Promise.all(sets.map((set) => limit(() => handle(set))));
  if (batch.length > 0) await sink.enqueue(batch);
  return { ...figures, cancelled: false };
}

/** A set that failed before any member was read has no ETags: its line carries the keys' hash. */
function setEtag(set: ImageSet): string {
  return createHash("sha256").update(set.keys.join("\n")).digest("hex").slice(0, 32);
}
