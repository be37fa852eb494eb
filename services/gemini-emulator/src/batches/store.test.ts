import { describe, expect, it } from "vitest";
import { EmulatorApiError, invalidArgument } from "../errors.ts";
import { manualClock } from "../files/clock.ts";
import { parsePageRequest } from "../files/paging.ts";
import { FileStore } from "../files/store.ts";
import type { GenerateContentResponse } from "../generate.ts";
import type { ModelRunner } from "./execute.ts";
import type { BatchRequest } from "./input.ts";
import { batchOperation } from "./operation.ts";
import type { BatchSource } from "./store.ts";
import { BatchStore } from "./store.ts";

const HOUR = 60 * 60 * 1000;

/** Answers with the request's text echoed, fails requests whose text is "fail". */
function echoRunner(calls: unknown[] = []): ModelRunner {
  return (_owner, _model, request) => {
    calls.push(request);
    const text = (request as { text?: string }).text ?? "";
    if (text === "fail") return Promise.reject(invalidArgument("bad request"));
    return Promise.resolve({
      candidates: [{ content: { role: "model", parts: [{ text }] } }],
    } as unknown as GenerateContentResponse);
  };
}

function setup(options: ConstructorParameters<typeof BatchStore>[3] = {}, calls: unknown[] = []) {
  const clock = manualClock();
  const files = new FileStore(clock);
  const batches = new BatchStore(clock, files, echoRunner(calls), {
    pendingMs: 1000,
    runningMs: 1000,
    ...options,
  });
  return { clock, files, batches };
}

function inline(...texts: string[]): BatchSource {
  const requests: BatchRequest[] = texts.map((text, index) => ({
    key: undefined,
    metadata: { n: index },
    request: { text },
  }));
  return { kind: "inline", requests };
}

function create(batches: BatchStore, source: BatchSource, owner = "key") {
  const requestCount =
    source.kind === "inline" ? source.requests.length : source.bytes.toString().trim().split("\n").length;
  return batches.create({
    owner,
    model: "gemini-2.5-flash",
    displayName: "b",
    source,
    requestCount,
    ownHosts: [],
  });
}

describe("BatchStore", () => {
  it("runs PENDING -> RUNNING -> SUCCEEDED on the clock, with inlined responses in order", async () => {
    const calls: unknown[] = [];
    const { clock, batches } = setup({}, calls);
    const batch = create(batches, inline("one", "fail", "three"));
    const pending = batchOperation(batch, batches);
    expect(pending.metadata).toMatchObject({
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
      name: `batches/${batch.id}`,
      model: "models/gemini-2.5-flash",
      displayName: "b",
      state: "BATCH_STATE_PENDING",
      batchStats: { requestCount: "3", pendingRequestCount: "3" },
    });
    expect(pending.done).toBeUndefined();

    clock.advance(1000);
    await batches.settle(batch);
    expect(batches.stateOf(batch)).toBe("BATCH_STATE_RUNNING");
    expect(calls).toEqual([]);

    clock.advance(1000);
    await batches.settle(batch);
    const done = batchOperation(batch, batches);
    expect(done.metadata.state).toBe("BATCH_STATE_SUCCEEDED");
    expect(done.done).toBe(true);
    expect(done.metadata.batchStats).toEqual({
      requestCount: "3",
      successfulRequestCount: "2",
      failedRequestCount: "1",
    });
    expect(done.metadata.endTime).toBe(done.metadata.updateTime);
    const responses = done.metadata.output?.inlinedResponses?.inlinedResponses;
    expect(responses?.map((entry) => entry["metadata"])).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(responses?.[1]).toMatchObject({ error: { code: 3, message: "bad request" } });
    // Google's REST examples read the output from `response`: the same output, typed.
    expect(done.response).toEqual({
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
      ...done.metadata.output,
    });
  });

  it("runs a due batch once, however many callers look at it at the same time", async () => {
    const calls: unknown[] = [];
    const { clock, batches } = setup({}, calls);
    const batch = create(batches, inline("a", "b"));
    clock.advance(2000);
    await Promise.all([batches.settle(batch), batches.settle(batch), batches.settle(batch)]);
    expect(calls).toHaveLength(2);
  });

  it("writes a file batch's results to a GENERATED JSONL file, keyed like its input", async () => {
    const { clock, files, batches } = setup();
    const input = Buffer.from(
      '{"key":"first","request":{"text":"x"}}\n{"key":"second","request":{"text":"fail"}}\n',
    );
    const batch = create(batches, { kind: "file", fileName: "files/input", bytes: input });
    clock.advance(2000);
    await batches.settle(batch);
    const operation = batchOperation(batch, batches);
    expect(operation.metadata.inputConfig).toEqual({ fileName: "files/input" });
    const responsesFile = operation.metadata.output?.responsesFile ?? "";
    expect(operation.response?.responsesFile).toBe(responsesFile);
    const stored = files.get("key", responsesFile.replace("files/", ""));
    expect(stored.source).toBe("GENERATED");
    const lines = stored.bytes
      .toString()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line["key"])).toEqual(["first", "second"]);
    expect(lines[0]).toHaveProperty("response");
    expect(lines[1]).toMatchObject({ error: { code: 3 } });
  });

  it("fails the whole batch when its input file is not JSONL requests", async () => {
    const { clock, batches } = setup();
    const batch = create(batches, { kind: "file", fileName: "files/input", bytes: Buffer.from("{nope\n") });
    clock.advance(2000);
    await batches.settle(batch);
    const operation = batchOperation(batch, batches);
    expect(operation.metadata.state).toBe("BATCH_STATE_FAILED");
    expect(operation.error).toEqual({ code: 3, message: "Invalid JSON at line 1 of files/input." });
    expect(operation.metadata.output).toBeUndefined();
  });

  it("cancels a batch that has not finished, and leaves a finished one alone", async () => {
    const calls: unknown[] = [];
    const { clock, batches } = setup({}, calls);
    const running = create(batches, inline("a"));
    clock.advance(1500);
    await batches.cancel("key", running.id);
    clock.advance(10_000);
    await batches.settle(running);
    expect(batchOperation(running, batches).metadata).toMatchObject({ state: "BATCH_STATE_CANCELLED" });
    expect(calls).toEqual([]);

    const finished = create(batches, inline("b"));
    clock.advance(2000);
    // Due but never looked at: cancelling it finds it done.
    await batches.cancel("key", finished.id);
    expect(batches.stateOf(finished)).toBe("BATCH_STATE_SUCCEEDED");
  });

  it("expires a batch that cannot finish within ttlMs (48 h by default)", async () => {
    const { clock, batches } = setup({ runningMs: 49 * HOUR });
    const batch = create(batches, inline("a"));
    clock.advance(48 * HOUR - 1);
    expect(batches.stateOf(batch)).toBe("BATCH_STATE_RUNNING");
    clock.advance(1);
    await batches.settle(batch);
    const operation = batchOperation(batch, batches);
    expect(operation.metadata.state).toBe("BATCH_STATE_EXPIRED");
    expect(operation.done).toBe(true);
  });

  it("scopes batches to their API key, lists newest first, and forgets deleted ones", () => {
    const { batches } = setup();
    const first = create(batches, inline("a"));
    const second = create(batches, inline("b"));
    create(batches, inline("c"), "other");
    const page = parsePageRequest(new URLSearchParams("pageSize=1"), { defaultSize: 10, maxSize: 100 });
    const listed = batches.list("key", page);
    expect(listed.items).toEqual([second]);
    expect(listed.nextPageToken).toBeDefined();
    expect(() => batches.get("other", first.id)).toThrow(EmulatorApiError);
    batches.delete("key", first.id);
    expect(() => batches.get("key", first.id)).toThrow("Requested entity was not found.");
    expect(batches.totals()).toEqual({ count: 2, byState: { BATCH_STATE_PENDING: 2 } });
  });
});
