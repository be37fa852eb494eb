// Batch mode on the wire: the operation the API returns (metadata, batchStats, done, response), its
// progress on the emulator clock, results inline and as a downloadable JSONL file, and the errors.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchOperation, Emulator, FileResource } from "../src/index.ts";
import { startEmulator } from "../src/index.ts";

const KEY = "batch-test-key";
const HOUR = 60 * 60 * 1000;
const MODEL = "gemini-2.5-flash";
let png: string;
let emulator: Emulator;

beforeAll(async () => {
  png = (
    await sharp({ create: { width: 100, height: 50, channels: 3, background: "#d01010" } })
      .png()
      .toBuffer()
  ).toString("base64");
  // Long phases, so every state is seen by moving the clock, never by waiting.
  emulator = await startEmulator({ batches: { pendingMs: 60_000, runningMs: 60_000 } });
});

afterAll(async () => {
  await emulator.close();
});

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown> & { error?: { code: number; message: string; status: string } };
}

async function call(method: string, path: string, body?: unknown, key = KEY): Promise<Answer> {
  const response = await fetch(new URL(path, emulator.url), {
    method,
    headers: { "x-goog-api-key": key, "content-type": "application/json" },
    ...(body === undefined
      ? {}
      : { body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: Answer["json"] = {};
  try {
    json = JSON.parse(text) as Answer["json"];
  } catch {
    // Downloads are JSONL, not JSON.
  }
  return { status: response.status, text, json };
}

const imageRequest = (text = "Describe.") => ({
  contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data: png } }, { text }] }],
});

async function createInline(requests: unknown[], key = KEY): Promise<BatchOperation> {
  const answer = await call(
    "POST",
    `/v1beta/models/${MODEL}:batchGenerateContent`,
    { batch: { displayName: "inline", inputConfig: { requests: { requests } } } },
    key,
  );
  expect(answer.status).toBe(200);
  return answer.json as unknown as BatchOperation;
}

async function get(name: string, key = KEY): Promise<BatchOperation> {
  return (await call("GET", `/v1beta/${name}`, undefined, key)).json as unknown as BatchOperation;
}

async function uploadJsonl(lines: unknown[]): Promise<FileResource> {
  const bytes = Buffer.from(
    lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n"),
  );
  const start = await fetch(`${emulator.url}/upload/v1beta/files`, {
    method: "POST",
    headers: {
      "x-goog-api-key": KEY,
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-header-content-length": String(bytes.length),
      "x-goog-upload-header-content-type": "jsonl",
    },
    body: "{}",
  });
  const final = await fetch(start.headers.get("x-goog-upload-url")!, {
    method: "POST",
    headers: { "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "0" },
    body: bytes,
  });
  return ((await final.json()) as { file: FileResource }).file;
}

describe("an inline batch", () => {
  it("moves PENDING -> RUNNING -> SUCCEEDED on the clock and returns the responses, metadata and errors", async () => {
    const created = await createInline([
      { request: imageRequest(), metadata: { key: "red" } },
      {
        request: {
          contents: [{ parts: [{ fileData: { fileUri: "files/missing", mimeType: "image/png" } }] }],
        },
      },
    ]);
    expect(created.name).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(created.metadata).toMatchObject({
      "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
      model: `models/${MODEL}`,
      displayName: "inline",
      state: "BATCH_STATE_PENDING",
      batchStats: { requestCount: "2", pendingRequestCount: "2" },
      name: created.name,
    });
    expect(created.done).toBeUndefined();

    emulator.clock.advance(60_000);
    expect((await get(created.name)).metadata.state).toBe("BATCH_STATE_RUNNING");
    emulator.clock.advance(60_000);
    const done = await get(created.name);
    expect(done.metadata.state).toBe("BATCH_STATE_SUCCEEDED");
    expect(done.done).toBe(true);
    expect(done.metadata.batchStats).toEqual({
      requestCount: "2",
      successfulRequestCount: "1",
      failedRequestCount: "1",
    });
    const [ok, failed] = done.metadata.output?.inlinedResponses?.inlinedResponses ?? [];
    expect(ok).toMatchObject({
      metadata: { key: "red" },
      response: { candidates: [{ content: { parts: [{ text: "A 100x50 image, mostly red (#d01010)." }] } }] },
    });
    expect(failed).toEqual({
      error: {
        code: 7,
        message: "You do not have permission to access the File missing or it may not exist.",
      },
    });
    expect(done.response?.inlinedResponses).toEqual(done.metadata.output?.inlinedResponses);
  });

  it("ends CANCELLED when cancelled before it finishes, and 404s once deleted", async () => {
    const created = await createInline([{ request: imageRequest() }]);
    expect((await call("POST", `/v1/${created.name}:cancel`)).json).toEqual({});
    emulator.clock.advance(10 * 60_000);
    const cancelled = await get(created.name);
    expect(cancelled.metadata.state).toBe("BATCH_STATE_CANCELLED");
    expect(cancelled.done).toBe(true);
    expect(cancelled.metadata.output).toBeUndefined();

    expect((await call("DELETE", `/v1beta/${created.name}`)).json).toEqual({});
    const gone = await call("GET", `/v1beta/${created.name}`);
    expect(gone.status).toBe(404);
    expect(gone.json.error).toMatchObject({
      status: "NOT_FOUND",
      message: "Requested entity was not found.",
    });
  });

  it("ends EXPIRED when it cannot finish within 48 h", async () => {
    const slow = await startEmulator({ batches: { runningMs: 72 * HOUR } });
    try {
      const response = await fetch(`${slow.url}/v1beta/models/${MODEL}:batchGenerateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": KEY },
        body: JSON.stringify({
          batch: { inputConfig: { requests: { requests: [{ request: imageRequest() }] } } },
        }),
      });
      const { name } = (await response.json()) as BatchOperation;
      slow.clock.advance(48 * HOUR);
      const expired = (await (
        await fetch(`${slow.url}/v1beta/${name}`, { headers: { "x-goog-api-key": KEY } })
      ).json()) as BatchOperation;
      expect(expired.metadata.state).toBe("BATCH_STATE_EXPIRED");
      expect(slow.stats.byRoute).toMatchObject({ batchGenerateContent: 1, batches: 1 });
    } finally {
      await slow.close();
    }
  });
});

describe("a batch from an uploaded JSONL file", () => {
  it("writes keyed results to a GENERATED file that downloads on both download paths", async () => {
    const input = await uploadJsonl([
      { key: "first", request: imageRequest() },
      { key: "second", request: imageRequest("Again.") },
    ]);
    const created = (
      await call("POST", `/v1/models/${MODEL}:batchGenerateContent`, {
        batch: { displayName: "from-file", inputConfig: { fileName: input.name } },
      })
    ).json as unknown as BatchOperation;
    expect(created.metadata.inputConfig).toEqual({ fileName: input.name });
    expect(created.metadata.batchStats.requestCount).toBe("2");

    emulator.clock.advance(120_000);
    const done = await get(created.name);
    const responsesFile = done.metadata.output?.responsesFile ?? "";
    expect(responsesFile).toMatch(/^files\/[a-z0-9]+$/);
    expect(done.response?.responsesFile).toBe(responsesFile);

    const file = (await call("GET", `/v1beta/${responsesFile}`)).json as unknown as FileResource;
    expect(file).toMatchObject({ source: "GENERATED", mimeType: "application/jsonl", state: "ACTIVE" });
    expect(file.downloadUri).toBe(`${emulator.url}/download/v1beta/${responsesFile}:download?alt=media`);
    const viaDownloadUri = await fetch(file.downloadUri!, { headers: { "x-goog-api-key": KEY } });
    const text = await viaDownloadUri.text();
    // The SDK's files.download asks the plain version path.
    expect((await call("GET", `/v1/${responsesFile}:download?alt=media`)).text).toBe(text);
    const lines = text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { key: string; response?: unknown });
    expect(lines.map((line) => line.key)).toEqual(["first", "second"]);
    expect(lines.every((line) => line.response !== undefined)).toBe(true);
  });

  it("FAILs with an operation error when a line is not a request", async () => {
    const input = await uploadJsonl([{ key: "ok", request: imageRequest() }, "{not json"]);
    const created = (
      await call("POST", `/v1beta/models/${MODEL}:batchGenerateContent`, {
        batch: { inputConfig: { fileName: input.name } },
      })
    ).json as unknown as BatchOperation;
    emulator.clock.advance(120_000);
    const failed = await get(created.name);
    expect(failed.metadata.state).toBe("BATCH_STATE_FAILED");
    expect(failed.error).toEqual({ code: 3, message: `Invalid JSON at line 2 of ${input.name}.` });
  });
});

describe("batch errors and listing", () => {
  it("refuses an unknown model, a missing input file and a malformed body", async () => {
    const model = await call("POST", "/v1beta/models/gemini-0.1:batchGenerateContent", { batch: {} });
    expect(model.status).toBe(404);
    expect(model.json.error?.message).toMatch(
      /^models\/gemini-0\.1 is not found for API version v1beta, or is not supported for batchGenerateContent/,
    );
    const missing = await call("POST", `/v1beta/models/${MODEL}:batchGenerateContent`, {
      batch: { inputConfig: { fileName: "files/nothere" } },
    });
    expect(missing.status).toBe(403);
    const malformed = await call("POST", `/v1beta/models/${MODEL}:batchGenerateContent`, {
      batch: { inputConfig: {} },
    });
    expect(malformed.status).toBe(400);
  });

  it("lists a key's batches as `operations`, newest first, in pages", async () => {
    const key = "listing-key";
    const first = await createInline([{ request: imageRequest() }], key);
    const second = await createInline([{ request: imageRequest() }], key);
    const page1 = await call("GET", "/v1beta/batches?pageSize=1", undefined, key);
    expect((page1.json["operations"] as BatchOperation[]).map((operation) => operation.name)).toEqual([
      second.name,
    ]);
    const page2 = await call(
      "GET",
      `/v1beta/batches?pageSize=1&pageToken=${String(page1.json["nextPageToken"])}`,
      undefined,
      key,
    );
    expect((page2.json["operations"] as BatchOperation[]).map((operation) => operation.name)).toEqual([
      first.name,
    ]);
    expect(page2.json["nextPageToken"]).toBeUndefined();
    expect((await call("GET", `/v1beta/${first.name}`, undefined, "another-key")).status).toBe(404);
  });
});
