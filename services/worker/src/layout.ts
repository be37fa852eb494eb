/**
 * Where a run's files go under its output location (docs/output-layout.md). Keys keep the
 * source key verbatim so a person can find the annotation of `cats/1.jpg` without a lookup.
 */
export const runFiles = {
  runJson: (runId: string) => `${runId}/run.json`,
  manifest: (runId: string) => `${runId}/manifest.jsonl`,
  annotation: (runId: string, sourceKey: string) => `${runId}/annotations/${sourceKey}.json`,
  /** A compare set's one annotation, named by the set's id (apart from source keys). */
  setAnnotation: (runId: string, setId: string) => `${runId}/sets/${setId}.json`,
  /** Boxes, labels and masks drawn over the image, for detect and segment runs. */
  preview: (runId: string, sourceKey: string) => `${runId}/previews/${sourceKey}.png`,
  coco: (runId: string) => `${runId}/coco.json`,
};

/**
 * The output location's annotation cache, shared by every run writing there (annotation-cache.ts).
 * Run ids cannot contain ".", so this folder never collides with a run's.
 */
export const cacheFiles = {
  folder: ".tessera-cache/v1/",
  entry: (settingsHash: string, objectHash: string) =>
    `.tessera-cache/v1/${settingsHash}/${objectHash.slice(0, 2)}/${objectHash}.json`,
};
