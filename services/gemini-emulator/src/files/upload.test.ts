import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { EmulatorApiError } from "../errors.ts";
import { manualClock } from "./clock.ts";
import type { Reply } from "./http.ts";
import type { FileResource } from "./resource.ts";
import { FileStore } from "./store.ts";
import { UploadSessions } from "./upload.ts";

const BASE = "http://127.0.0.1:9999";
let png: Buffer;

beforeAll(async () => {
  png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#00ff00" } })
    .png()
    .toBuffer();
});

function setup(limits: ConstructorParameters<typeof FileStore>[1] = {}) {
  const store = new FileStore(manualClock(), limits);
  return { store, uploads: new UploadSessions(store) };
}

function start(
  uploads: UploadSessions,
  size: number | undefined,
  body: unknown = {},
  mime = "image/png",
): string {
  const reply = uploads.start({
    owner: "key",
    apiVersion: "v1beta",
    baseUrl: BASE,
    headers: {
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      ...(size === undefined ? {} : { "x-goog-upload-header-content-length": String(size) }),
      "x-goog-upload-header-content-type": mime,
    },
    body,
  });
  return new URL(reply.headers!["x-goog-upload-url"]!).searchParams.get("upload_id")!;
}

function send(uploads: UploadSessions, uploadId: string, command: string, bytes: Buffer, offset?: number) {
  return uploads.chunk({
    uploadId,
    baseUrl: BASE,
    headers: {
      "x-goog-upload-command": command,
      ...(offset === undefined ? {} : { "x-goog-upload-offset": String(offset) }),
    },
    bytes,
  });
}

async function rejection(promise: Promise<unknown>): Promise<EmulatorApiError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(EmulatorApiError);
  return error as EmulatorApiError;
}

function fileOf(reply: Reply): FileResource {
  return (reply.body as { file: FileResource }).file;
}

describe("UploadSessions", () => {
  it("answers start with the session URL on the caller's host and version, active, with the chunk size", () => {
    const { uploads } = setup();
    const reply = uploads.start({
      owner: "key",
      apiVersion: "v1",
      baseUrl: BASE,
      headers: {
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": "10",
        "x-goog-upload-header-content-type": "image/png",
      },
      body: { file: { displayName: "x" } },
    });
    expect(reply.body).toBeUndefined();
    expect(reply.headers).toMatchObject({
      "x-goog-upload-status": "active",
      "x-goog-upload-chunk-granularity": "8388608",
    });
    expect(reply.headers!["x-goog-upload-url"]).toMatch(
      /^http:\/\/127\.0\.0\.1:9999\/upload\/v1\/files\?upload_id=[a-z0-9]{40}&upload_protocol=resumable$/,
    );
  });

  it("takes chunks at exact offsets and finalizes into an ACTIVE file with the API's fields", async () => {
    const { uploads } = setup();
    const id = start(uploads, png.length, { file: { displayName: "green" } });
    const half = Math.floor(png.length / 2);
    const middle = await send(uploads, id, "upload", png.subarray(0, half), 0);
    expect(middle).toEqual({
      headers: { "x-goog-upload-status": "active", "x-goog-upload-size-received": String(half) },
    });
    const last = await send(uploads, id, "upload, finalize", png.subarray(half), half);
    expect(last.headers).toEqual({ "x-goog-upload-status": "final" });
    expect(fileOf(last)).toMatchObject({
      displayName: "green",
      mimeType: "image/png",
      sizeBytes: String(png.length),
      state: "ACTIVE",
      source: "UPLOADED",
    });
    // The session is spent.
    expect((await rejection(send(uploads, id, "query", Buffer.alloc(0)))).code).toBe(404);
  });

  it("400s a chunk at the wrong offset, keeps the session, and query tells where to resume", async () => {
    const { uploads } = setup();
    const id = start(uploads, png.length);
    await send(uploads, id, "upload", png.subarray(0, 10), 0);
    const error = await rejection(send(uploads, id, "upload", png.subarray(10), 11));
    expect(error.body.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    expect(error.message).toMatch(/X-Goog-Upload-Offset 11.*received 10 bytes/);
    expect((await rejection(send(uploads, id, "upload", png.subarray(10)))).message).toMatch(
      /needs X-Goog-Upload-Offset/,
    );
    const query = await send(uploads, id, "query", Buffer.alloc(0));
    expect(query.headers?.["x-goog-upload-size-received"]).toBe("10");
    const done = await send(uploads, id, "upload, finalize", png.subarray(10), 10);
    expect(fileOf(done).sizeBytes).toBe(String(png.length));
  });

  it("400s a finalize whose total differs from the declared length", async () => {
    const { uploads, store } = setup();
    const id = start(uploads, png.length + 1);
    const error = await rejection(send(uploads, id, "upload, finalize", png, 0));
    expect(error.message).toMatch(
      /finalized with \d+ bytes, but X-Goog-Upload-Header-Content-Length declared/,
    );
    expect(store.totals().count).toBe(0);
  });

  it("marks bytes that are not the declared image type FAILED, and other types ACTIVE unchecked", async () => {
    const { uploads } = setup();
    const jpegAsPng = await sharp(png).jpeg().toBuffer();
    const failed = fileOf(
      await send(uploads, start(uploads, jpegAsPng.length), "upload, finalize", jpegAsPng, 0),
    );
    expect(failed.state).toBe("FAILED");
    expect(failed.error?.message).toMatch(/declared image\/png, but the bytes look like image\/jpeg/);

    const lines = Buffer.from('{"key":"a","request":{}}\n');
    const jsonl = fileOf(
      await send(uploads, start(uploads, lines.length, {}, "jsonl"), "upload, finalize", lines, 0),
    );
    expect(jsonl).toMatchObject({ mimeType: "jsonl", state: "ACTIVE" });
  });

  it("checks the declared size against the limits at start, and the bytes sent as they arrive", async () => {
    const { uploads, store } = setup({ maxFileBytes: 100, maxProjectBytes: 150 });
    expect(() => start(uploads, 101)).toThrow("File size exceeds the limit: 100 bytes.");
    store.add("key", { mimeType: "text/plain", bytes: Buffer.alloc(100), source: "UPLOADED" });
    expect(() => start(uploads, 51)).toThrow(/^You exceeded your current quota/);
    const undeclared = start(uploads, undefined);
    await send(uploads, undeclared, "upload", Buffer.alloc(60), 0);
    expect((await rejection(send(uploads, undeclared, "upload", Buffer.alloc(41), 60))).message).toBe(
      "File size exceeds the limit: 100 bytes.",
    );
    // Too large ends the session: nothing can complete it any more.
    expect((await rejection(send(uploads, undeclared, "query", Buffer.alloc(0)))).code).toBe(404);
  });

  it("takes metadata from a snake_case body and a client-chosen name", async () => {
    const { uploads } = setup();
    const id = start(uploads, undefined, {
      file: { name: "files/my-green", display_name: "Green", mime_type: "image/png" },
    });
    const file = fileOf(await send(uploads, id, "upload, finalize", png, 0));
    expect(file).toMatchObject({ name: "files/my-green", displayName: "Green" });
  });

  it("forgets a session left unfinished for as long as a file would live", async () => {
    const clock = manualClock();
    const uploads = new UploadSessions(new FileStore(clock, { ttlMs: 1000 }));
    const id = start(uploads, png.length);
    await send(uploads, id, "upload", png.subarray(0, 10), 0);
    clock.advance(1000);
    expect((await rejection(send(uploads, id, "upload", png.subarray(10), 10))).code).toBe(404);
  });

  it("drops a cancelled session", async () => {
    const { uploads } = setup();
    const id = start(uploads, 10);
    expect((await send(uploads, id, "cancel", Buffer.alloc(0))).headers).toEqual({
      "x-goog-upload-status": "cancelled",
    });
    expect((await rejection(send(uploads, id, "upload", Buffer.alloc(1), 0))).code).toBe(404);
  });

  it("speaks only the resumable protocol, starting with start", () => {
    const { uploads } = setup();
    const startWith = (headers: Record<string, string>) =>
      uploads.start({ owner: "key", apiVersion: "v1beta", baseUrl: BASE, headers, body: {} });
    expect(() => startWith({ "x-goog-upload-protocol": "multipart" })).toThrow(/resumable protocol only/);
    expect(() =>
      startWith({ "x-goog-upload-protocol": "resumable", "x-goog-upload-command": "upload" }),
    ).toThrow(/needs X-Goog-Upload-Command: start/);
  });
});
