// A batch as the API shows it: a long-running operation whose metadata is the GenerateContentBatch
// (state, stats, output) and whose `response` repeats the output once it is done. The SDKs read
// `metadata`; Google's REST examples read `response`.
import { timestamp } from "../files/clock.ts";
import type { StatusJson } from "./execute.ts";
import type { Batch, BatchState, BatchStore } from "./store.ts";

// The API names its internal proto version here whatever version the client called.
const BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

export interface BatchOutput {
  inlinedResponses?: { inlinedResponses: Record<string, unknown>[] };
  responsesFile?: string;
}

export interface BatchOperation {
  name: string;
  metadata: {
    "@type": string;
    model: string;
    displayName?: string;
    inputConfig?: { fileName: string };
    output?: BatchOutput;
    createTime: string;
    updateTime: string;
    endTime?: string;
    batchStats: Record<string, string>;
    state: BatchState;
    name: string;
  };
  done?: true;
  response?: { "@type": string } & BatchOutput;
  error?: StatusJson;
}

const TERMINAL: ReadonlySet<BatchState> = new Set([
  "BATCH_STATE_SUCCEEDED",
  "BATCH_STATE_FAILED",
  "BATCH_STATE_CANCELLED",
  "BATCH_STATE_EXPIRED",
]);

/** The batch must have been settled (BatchStore.settle) for a due batch to show its outcome. */
export function batchOperation(batch: Batch, store: BatchStore): BatchOperation {
  const state = store.stateOf(batch);
  const name = `batches/${batch.id}`;
  const output = state === "BATCH_STATE_SUCCEEDED" ? outputOf(batch) : undefined;
  const changed = timestamp(store.changedAt(batch));
  return {
    name,
    metadata: {
      "@type": BATCH_TYPE,
      model: `models/${batch.model}`,
      ...(batch.displayName === undefined ? {} : { displayName: batch.displayName }),
      // Inline requests are not echoed back: they can hold megabytes of images.
      ...(batch.source.kind === "file" ? { inputConfig: { fileName: batch.source.fileName } } : {}),
      ...(output === undefined ? {} : { output }),
      createTime: timestamp(batch.createTime),
      updateTime: changed,
      ...(TERMINAL.has(state) ? { endTime: changed } : {}),
      batchStats: statsOf(batch, state),
      state,
      name,
    },
    ...(TERMINAL.has(state) ? { done: true as const } : {}),
    ...(output === undefined ? {} : { response: { "@type": OUTPUT_TYPE, ...output } }),
    ...(batch.result?.ok === false && state === "BATCH_STATE_FAILED" ? { error: batch.result.error } : {}),
  };
}

function outputOf(batch: Batch): BatchOutput | undefined {
  const result = batch.result;
  if (result === undefined || !result.ok) return undefined;
  if (result.responsesFile !== undefined) return { responsesFile: result.responsesFile };
  return {
    inlinedResponses: {
      inlinedResponses: result.outcomes.map((outcome, index) => {
        const metadata = result.requests[index]?.metadata;
        return { ...outcome, ...(metadata === undefined ? {} : { metadata }) };
      }),
    },
  };
}

/** int64 counts as strings; zero counts are left out, as proto JSON does. */
function statsOf(batch: Batch, state: BatchState): Record<string, string> {
  const counts: Record<string, number> = { requestCount: batch.requestCount };
  const result = batch.result;
  if (state === "BATCH_STATE_SUCCEEDED" && result?.ok === true) {
    const failed = result.outcomes.filter((outcome) => "error" in outcome).length;
    counts["successfulRequestCount"] = result.outcomes.length - failed;
    counts["failedRequestCount"] = failed;
  } else if (state === "BATCH_STATE_PENDING" || state === "BATCH_STATE_RUNNING") {
    counts["pendingRequestCount"] = batch.requestCount;
  }
  return Object.fromEntries(
    Object.entries(counts)
      .filter(([, count]) => count > 0)
      .map(([key, count]) => [key, String(count)]),
  );
}
