// The Files API on the wire, where the SDK hides it: the resumable upload headers, the File
// resource, paging, the errors a client meets, and what the emulator reports about it all.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions, EmulatorRequestEvent, FileResource } from "../src/index.ts";
import { startEmulator } from "../src/index.ts";

const KEY = "files-test-key";
const HOUR = 60 * 60 * 1000;
let png: Buffer;

beforeAll(async () => {
  png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#1030c0" } })
    .png()
    .toBuffer();
});

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { error?: { code: number; message: string; status: string } };
}

async function call(
  emulator: Emulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; key?: string | null } = {},
): Promise<Answer> {
  const key = options.key === undefined ? KEY : options.key;
  const response = await fetch(new URL(path, emulator.url), {
    method,
    headers: { ...(key === null ? {} : { "x-goog-api-key": key }), ...options.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text === "" ? {} : (JSON.parse(text) as Answer["json"]),
  };
}

/** The start request exactly as the SDKs send it. */
function startUpload(
  emulator: Emulator,
  size: number,
  mimeType = "image/png",
  version = "v1beta",
  key?: string | null,
) {
  return call(emulator, "POST", `/upload/${version}/files`, {
    key,
    headers: {
      "content-type": "application/json",
      "x-goog-upload-protocol": "resumable",
      "x-goog-upload-command": "start",
      "x-goog-upload-header-content-length": String(size),
      "x-goog-upload-header-content-type": mimeType,
    },
    body: JSON.stringify({ file: { mimeType, sizeBytes: String(size), displayName: "blue" } }),
  });
}

/** A chunk as the SDKs send it: binary, yet labelled application/json. */
function sendChunk(emulator: Emulator, uploadUrl: string, command: string, offset: number, bytes: Buffer) {
  const url = new URL(uploadUrl);
  return call(emulator, "POST", url.pathname + url.search, {
    headers: {
      "content-type": "application/json",
      "x-goog-upload-command": command,
      "x-goog-upload-offset": String(offset),
    },
    body: bytes,
    key: null,
  });
}

async function upload(emulator: Emulator, bytes = png, mimeType = "image/png"): Promise<FileResource> {
  const started = await startUpload(emulator, bytes.length, mimeType);
  const final = await sendChunk(
    emulator,
    started.headers.get("x-goog-upload-url")!,
    "upload, finalize",
    0,
    bytes,
  );
  expect(final.status).toBe(200);
  return final.json["file"] as FileResource;
}

function describeRequest(fileUri: string, mimeType = "image/png") {
  return JSON.stringify({
    contents: [{ parts: [{ fileData: { fileUri, mimeType } }, { text: "Describe." }] }],
  });
}

async function withEmulator<T>(
  options: EmulatorOptions,
  run: (emulator: Emulator) => Promise<T>,
): Promise<T> {
  const emulator = await startEmulator(options);
  try {
    return await run(emulator);
  } finally {
    await emulator.close();
  }
}

describe("resumable upload on the wire", () => {
  let emulator: Emulator;
  const events: EmulatorRequestEvent[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ onRequest: (event) => events.push(event) });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it("answers start with an upload URL on its own host, then active chunks, then the final File", async () => {
    const started = await startUpload(emulator, png.length);
    expect(started.status).toBe(200);
    expect(started.headers.get("x-goog-upload-status")).toBe("active");
    const uploadUrl = started.headers.get("x-goog-upload-url")!;
    expect(uploadUrl).toMatch(
      new RegExp(`^${emulator.url}/upload/v1beta/files\\?upload_id=[a-z0-9]+&upload_protocol=resumable$`),
    );

    const middle = await sendChunk(emulator, uploadUrl, "upload", 0, png.subarray(0, 20));
    expect(middle.status).toBe(200);
    expect(middle.headers.get("x-goog-upload-status")).toBe("active");
    const final = await sendChunk(emulator, uploadUrl, "upload, finalize", 20, png.subarray(20));
    expect(final.headers.get("x-goog-upload-status")).toBe("final");
    const file = final.json["file"] as FileResource;
    expect(file).toMatchObject({
      displayName: "blue",
      mimeType: "image/png",
      sizeBytes: String(png.length),
      state: "ACTIVE",
      source: "UPLOADED",
      uri: `${emulator.url}/v1beta/files/${file.name.replace("files/", "")}`,
    });
    expect(Date.parse(file.expirationTime) - Date.parse(file.createTime)).toBe(48 * HOUR);
    expect(events.slice(-3).map((event) => event.route)).toEqual(["uploadFile", "uploadFile", "uploadFile"]);
  });

  it("400s a chunk at the wrong offset; the client can query and resume", async () => {
    const uploadUrl = (await startUpload(emulator, png.length)).headers.get("x-goog-upload-url")!;
    await sendChunk(emulator, uploadUrl, "upload", 0, png.subarray(0, 30));
    const wrong = await sendChunk(emulator, uploadUrl, "upload, finalize", 0, png.subarray(30));
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    expect(wrong.json.error?.message).toMatch(/X-Goog-Upload-Offset 0: .* received 30 bytes/);

    const url = new URL(uploadUrl);
    const query = await call(emulator, "POST", url.pathname + url.search, {
      headers: { "x-goog-upload-command": "query" },
      key: null,
    });
    expect(query.headers.get("x-goog-upload-size-received")).toBe("30");
    const resumed = await sendChunk(emulator, uploadUrl, "upload, finalize", 30, png.subarray(30));
    expect((resumed.json["file"] as FileResource).sizeBytes).toBe(String(png.length));
  });

  it("needs a key to start an upload, and 404s an unknown session", async () => {
    const anonymous = await startUpload(emulator, 10, "image/png", "v1beta", null);
    expect(anonymous.status).toBe(403);
    const unknown = await call(emulator, "POST", "/upload/v1beta/files?upload_id=nope", {
      headers: { "x-goog-upload-command": "upload", "x-goog-upload-offset": "0" },
      body: png,
    });
    expect(unknown.status).toBe(404);
  });
});

describe("files: get, list, delete, download", () => {
  it("gets a file on v1 and v1beta, lists pages with the API's field names, deletes", async () => {
    await withEmulator({}, async (emulator) => {
      expect((await call(emulator, "GET", "/v1beta/files")).json).toEqual({});
      const files = [await upload(emulator), await upload(emulator), await upload(emulator)];
      const id = files[0]!.name.replace("files/", "");
      for (const version of ["v1", "v1beta"]) {
        const got = await call(emulator, "GET", `/${version}/files/${id}`);
        expect(got.json).toEqual(files[0]);
      }
      const first = await call(emulator, "GET", "/v1beta/files?pageSize=2");
      expect(Object.keys(first.json).sort()).toEqual(["files", "nextPageToken"]);
      const second = await call(
        emulator,
        "GET",
        `/v1beta/files?pageSize=2&pageToken=${String(first.json["nextPageToken"])}`,
      );
      const listed = [
        ...(first.json["files"] as FileResource[]),
        ...(second.json["files"] as FileResource[]),
      ];
      expect(listed.map((file) => file.name)).toEqual(files.map((file) => file.name).reverse());
      expect(second.json["nextPageToken"]).toBeUndefined();

      expect((await call(emulator, "DELETE", `/v1beta/files/${id}`)).json).toEqual({});
      const gone = await call(emulator, "GET", `/v1beta/files/${id}`);
      expect(gone.status).toBe(403);
      expect(gone.json.error).toEqual({
        code: 403,
        status: "PERMISSION_DENIED",
        message: `You do not have permission to access the File ${id} or it may not exist.`,
        details: [],
      });
      expect(emulator.stats.byRoute).toMatchObject({ uploadFile: 6, files: 7 });
    });
  });

  it("keeps each key's files to itself", async () => {
    await withEmulator({}, async (emulator) => {
      const file = await upload(emulator);
      const other = await call(emulator, "GET", `/v1beta/${file.name}`, { key: "someone-else" });
      expect(other.status).toBe(403);
      expect((await call(emulator, "GET", "/v1beta/files", { key: "someone-else" })).json).toEqual({});
    });
  });

  it("refuses to download uploaded files, as the API does", async () => {
    await withEmulator({}, async (emulator) => {
      const file = await upload(emulator);
      const answer = await call(emulator, "GET", `/download/v1beta/${file.name}:download?alt=media`);
      expect(answer.status).toBe(400);
      expect(answer.json.error?.message).toBe("Only GENERATED files can be downloaded");
    });
  });
});

describe("files in generateContent", () => {
  it("reads a file by name or by uri, and bills it like the same image inline", async () => {
    await withEmulator({}, async (emulator) => {
      const file = await upload(emulator);
      const path = "/v1beta/models/gemini-2.5-flash:generateContent";
      const byUri = await call(emulator, "POST", path, { body: describeRequest(file.uri) });
      const byName = await call(emulator, "POST", path, { body: describeRequest(file.name) });
      const inline = await call(emulator, "POST", path, {
        body: JSON.stringify({
          contents: [
            {
              parts: [
                { inlineData: { mimeType: "image/png", data: png.toString("base64") } },
                { text: "Describe." },
              ],
            },
          ],
        }),
      });
      expect(byUri.status).toBe(200);
      expect(byUri.json["usageMetadata"]).toEqual(inline.json["usageMetadata"]);
      expect(byName.json["candidates"]).toEqual(inline.json["candidates"]);
    });
  });

  it("400s FAILED_PRECONDITION while a file is PROCESSING, and serves it once the clock passes processingMs", async () => {
    await withEmulator({ files: { processingMs: 60_000 } }, async (emulator) => {
      const file = await upload(emulator);
      expect(file.state).toBe("PROCESSING");
      const id = file.name.replace("files/", "");
      const early = await call(emulator, "POST", "/v1/models/gemini-2.5-flash:countTokens", {
        body: describeRequest(file.name),
      });
      expect(early.status).toBe(400);
      expect(early.json.error).toMatchObject({
        status: "FAILED_PRECONDITION",
        message: `The File ${id} is not in an ACTIVE state and usage is not allowed.`,
      });
      emulator.clock.advance(60_000);
      expect((await call(emulator, "GET", `/v1beta/${file.name}`)).json["state"]).toBe("ACTIVE");
      expect(
        (
          await call(emulator, "POST", "/v1/models/gemini-2.5-flash:countTokens", {
            body: describeRequest(file.name),
          })
        ).status,
      ).toBe(200);
    });
  });

  it("marks bytes that are not the declared image FAILED, and refuses to use them", async () => {
    await withEmulator({}, async (emulator) => {
      const file = await upload(emulator, Buffer.from("GIF89a not really"), "image/png");
      expect(file.state).toBe("FAILED");
      const used = await call(emulator, "POST", "/v1/models/gemini-2.5-flash:generateContent", {
        body: describeRequest(file.name),
      });
      expect(used.json.error?.status).toBe("FAILED_PRECONDITION");
    });
  });

  it("forgets files after 48 h on the emulator clock", async () => {
    await withEmulator({}, async (emulator) => {
      const file = await upload(emulator);
      emulator.clock.advance(48 * HOUR);
      const used = await call(emulator, "POST", "/v1/models/gemini-2.5-flash:generateContent", {
        body: describeRequest(file.uri),
      });
      expect(used.status).toBe(403);
      expect(used.json.error?.status).toBe("PERMISSION_DENIED");
      expect((await call(emulator, "GET", "/v1beta/files")).json).toEqual({});
    });
  });
});

describe("limits", () => {
  it("400s a file over maxFileBytes and answers the API's storage 429 past maxProjectBytes", async () => {
    await withEmulator(
      { files: { maxFileBytes: png.length, maxProjectBytes: png.length * 2 } },
      async (emulator) => {
        const tooBig = await startUpload(emulator, png.length + 1);
        expect(tooBig.status).toBe(400);
        expect(tooBig.json.error?.message).toBe(`File size exceeds the limit: ${png.length} bytes.`);
        await upload(emulator);
        await upload(emulator);
        const full = await startUpload(emulator, 1);
        expect(full.status).toBe(429);
        expect(full.json.error).toMatchObject({ status: "RESOURCE_EXHAUSTED" });
        expect(JSON.stringify(full.json)).toContain("FileStorageBytesPerProject");
      },
    );
  });

  it("reads chunks past the request body limit of model calls", async () => {
    const big = Buffer.alloc(64 * 1024, 1);
    await withEmulator({ maxRequestBytes: 1024 }, async (emulator) => {
      const file = await upload(emulator, big, "application/octet-stream");
      expect(file.sizeBytes).toBe(String(big.length));
    });
  });
});
