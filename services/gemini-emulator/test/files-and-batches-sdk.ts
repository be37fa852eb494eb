// The Files API, URL parts and batch mode driven through a real @google/genai SDK, shared by the
// 3.x and 2.x contract tests: each SDK must work against the emulator unchanged, errors included.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BatchJob, File as GenAiFile, GoogleGenAI, Part } from "@google/genai";
import { imageTokens } from "@tessera/imaging";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions, EmulatorRequestEvent } from "../src/index.ts";
import { UPLOAD_CHUNK_GRANULARITY, startEmulator, textTokens } from "../src/index.ts";

export interface SdkUnderTest {
  label: string;
  /** A client of this SDK on the emulator. 2.x is typed as 3.x: the calls used here are the same in both. */
  client(baseUrl: string): GoogleGenAI;
  createPartFromUri(uri: string, mimeType: string): Part;
  /** The SDK's ApiError class. */
  ApiError: abstract new (...args: never[]) => Error & { status: number };
  /** What the SDK calls by default: 3.x /v1, 2.x /v1beta. */
  apiVersion: "v1" | "v1beta";
  /** 3.x uploads under its API version; 2.x always to /upload/v1beta. */
  uploadPath: string;
}

const MODEL = "gemini-2.5-flash";
const PROMPT = "Describe this image.";
const HOUR = 60 * 60 * 1000;
const DONE = new Set(["JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"]);

/** Over two SDK chunks: an uncompressed PNG's size does not depend on its pixels, so its caption stays exact. */
const BIG = { width: 2400, height: 2400, caption: "A 2400x2400 image, mostly red (#d01010)." };

export function describeFilesAndBatchesContract(sdk: SdkUnderTest): void {
  describe(`${sdk.label}: files, URL parts and batch mode`, () => defineContract(sdk));
}

function defineContract(sdk: SdkUnderTest): void {
  let bigPng: Buffer;
  let smallPng: Buffer;
  let imageServer: Server;
  let imageUrl: string;

  beforeAll(async () => {
    bigPng = await sharp({
      create: { width: BIG.width, height: BIG.height, channels: 3, background: "#d01010" },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    smallPng = await sharp({ create: { width: 64, height: 32, channels: 3, background: "#1030c0" } })
      .png()
      .toBuffer();
    imageServer = createServer((req, res) => {
      if (req.url?.startsWith("/small.png"))
        res.writeHead(200, { "content-type": "image/png" }).end(smallPng);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => imageServer.listen(0, "127.0.0.1", resolve));
    imageUrl = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/small.png?X-Amz-Signature=secret`;
  });

  afterAll(async () => {
    imageServer.closeAllConnections();
    await new Promise<void>((resolve) => imageServer.close(() => resolve()));
  });

  async function withEmulator<T>(
    options: EmulatorOptions,
    run: (emulator: Emulator, ai: GoogleGenAI, events: EmulatorRequestEvent[]) => Promise<T>,
  ): Promise<T> {
    const events: EmulatorRequestEvent[] = [];
    const emulator = await startEmulator({ ...options, onRequest: (event) => events.push(event) });
    try {
      return await run(emulator, sdk.client(emulator.url), events);
    } finally {
      await emulator.close();
    }
  }

  async function apiErrorOf(
    call: Promise<unknown>,
  ): Promise<{ status: number; error: Record<string, unknown> }> {
    const thrown = await call.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(sdk.ApiError);
    const apiError = thrown as Error & { status: number };
    // The SDK's message is the response body; 2.x prefixes it with "got status: ...".
    const json = apiError.message.slice(apiError.message.indexOf("{"));
    return { status: apiError.status, error: (JSON.parse(json) as { error: Record<string, unknown> }).error };
  }

  function uploadSmall(ai: GoogleGenAI, bytes = smallPng, mimeType = "image/png"): Promise<GenAiFile> {
    return ai.files.upload({ file: new Blob([bytes]), config: { mimeType } });
  }

  const describeWith = (file: { uri?: string; name?: string }, which: "uri" | "name") => [
    sdk.createPartFromUri(file[which]!, "image/png"),
    PROMPT,
  ];

  async function pollUntilDone(ai: GoogleGenAI, emulator: Emulator, name: string): Promise<BatchJob> {
    for (let polls = 0; polls < 20; polls += 1) {
      const job = await ai.batches.get({ name });
      if (DONE.has(String(job.state))) return job;
      // Moving the emulator's clock stands in for the time a real client sleeps between polls.
      emulator.clock.advance(30_000);
    }
    throw new Error(`batch ${name} did not finish`);
  }

  describe("Files API", () => {
    it("uploads a >16 MiB image in 8 MiB chunks, then gets, uses, counts, lists and deletes it", async () => {
      await withEmulator({}, async (_emulator, ai, events) => {
        const file = await ai.files.upload({
          file: new Blob([bigPng]),
          config: { mimeType: "image/png", displayName: "big" },
        });
        expect(file).toMatchObject({
          displayName: "big",
          sizeBytes: String(bigPng.length),
          state: "ACTIVE",
          mimeType: "image/png",
        });

        const { uploadPath } = sdk;
        const uploads = events.filter((event) => event.route === "uploadFile");
        expect(uploads[0]).toMatchObject({ path: uploadPath, status: 200 });
        expect(uploads[0]?.headers).toMatchObject({
          "x-goog-upload-protocol": "resumable",
          "x-goog-upload-command": "start",
          "x-goog-upload-header-content-length": String(bigPng.length),
          "x-goog-upload-header-content-type": "image/png",
        });
        const chunks = uploads.slice(1).map((event) => ({
          command: event.headers["x-goog-upload-command"],
          offset: event.headers["x-goog-upload-offset"],
          type: event.headers["content-type"],
        }));
        expect(chunks).toEqual([
          { command: "upload", offset: "0", type: "application/json" },
          { command: "upload", offset: String(UPLOAD_CHUNK_GRANULARITY), type: "application/json" },
          {
            command: "upload, finalize",
            offset: String(2 * UPLOAD_CHUNK_GRANULARITY),
            type: "application/json",
          },
        ]);
        expect(uploads.slice(1).every((event) => event.path.startsWith(`${uploadPath}?upload_id=`))).toBe(
          true,
        );

        expect(await ai.files.get({ name: file.name! })).toEqual(file);

        const image = imageTokens({ width: BIG.width, height: BIG.height }, MODEL).tokens;
        for (const which of ["uri", "name"] as const) {
          const response = await ai.models.generateContent({
            model: MODEL,
            contents: describeWith(file, which),
          });
          expect(response.text).toBe(BIG.caption);
          expect(response.usageMetadata?.promptTokensDetails).toContainEqual({
            modality: "IMAGE",
            tokenCount: image,
          });
        }
        const counted = await ai.models.countTokens({ model: MODEL, contents: describeWith(file, "uri") });
        expect(counted.totalTokens).toBe(image + textTokens(PROMPT));

        const others = [await uploadSmall(ai), await uploadSmall(ai)];
        const pager = await ai.files.list({ config: { pageSize: 2 } });
        expect(pager.page).toHaveLength(2);
        expect(pager.hasNextPage()).toBe(true);
        const listed: string[] = [];
        for await (const item of pager) listed.push(item.name!);
        expect(listed).toEqual([others[1]!.name, others[0]!.name, file.name]);
        expect(events.some((event) => /\/files\?pageSize=2&pageToken=/.test(event.path))).toBe(true);

        await ai.files.delete({ name: file.name! });
        const gone = await apiErrorOf(ai.files.get({ name: file.name! }));
        expect(gone.status).toBe(403);
      });
    });

    it("captions an image the emulator fetches from an http URL", async () => {
      await withEmulator({}, async (_emulator, ai) => {
        const response = await ai.models.generateContent({
          model: MODEL,
          contents: [sdk.createPartFromUri(imageUrl, "image/png"), PROMPT],
        });
        expect(response.text).toBe("A 64x32 image, mostly blue (#1030c0).");
      });
    });

    it("403s an unknown file and 400s a failed URL fetch without showing its query", async () => {
      await withEmulator({}, async (_emulator, ai) => {
        const unknown = await apiErrorOf(
          ai.models.generateContent({
            model: MODEL,
            contents: describeWith({ name: "files/nosuchfile" }, "name"),
          }),
        );
        expect(unknown).toEqual({
          status: 403,
          error: expect.objectContaining({
            status: "PERMISSION_DENIED",
            message: "You do not have permission to access the File nosuchfile or it may not exist.",
          }) as unknown,
        });
        const broken = await apiErrorOf(
          ai.models.generateContent({
            model: MODEL,
            contents: [
              sdk.createPartFromUri(imageUrl.replace("/small.png", "/missing.png"), "image/png"),
              PROMPT,
            ],
          }),
        );
        expect(broken.status).toBe(400);
        expect(broken.error["message"]).toMatch(
          /^Cannot fetch the file at http:\/\/127\.0\.0\.1:\d+\/missing\.png: the server answered HTTP 404\.$/,
        );
        expect(JSON.stringify(broken.error)).not.toContain("secret");
      });
    });

    it("400s FAILED_PRECONDITION for a PROCESSING file, and 403s it once expired", async () => {
      await withEmulator({ files: { processingMs: 10_000 } }, async (emulator, ai) => {
        const file = await uploadSmall(ai);
        expect(file.state).toBe("PROCESSING");
        const early = await apiErrorOf(
          ai.models.generateContent({ model: MODEL, contents: describeWith(file, "uri") }),
        );
        expect(early).toMatchObject({ status: 400, error: { status: "FAILED_PRECONDITION" } });
        expect(early.error["message"]).toMatch(/is not in an ACTIVE state and usage is not allowed\.$/);

        emulator.clock.advance(10_000);
        expect((await ai.files.get({ name: file.name! })).state).toBe("ACTIVE");
        await expect(
          ai.models.generateContent({ model: MODEL, contents: describeWith(file, "uri") }),
        ).resolves.toBeDefined();

        emulator.clock.advance(48 * HOUR);
        const expired = await apiErrorOf(
          ai.models.generateContent({ model: MODEL, contents: describeWith(file, "uri") }),
        );
        expect(expired).toMatchObject({ status: 403, error: { status: "PERMISSION_DENIED" } });
        expect((await apiErrorOf(ai.files.get({ name: file.name! }))).status).toBe(403);
      });
    });

    it("429s an upload past the storage quota, and refuses to download an uploaded file", async () => {
      await withEmulator({ files: { maxProjectBytes: smallPng.length } }, async (_emulator, ai) => {
        const file = await uploadSmall(ai);
        const full = await apiErrorOf(uploadSmall(ai));
        expect(full).toMatchObject({ status: 429, error: { status: "RESOURCE_EXHAUSTED" } });
        const download = await apiErrorOf(
          ai.files.download({ file: file.name!, downloadPath: path.join(tmpdir(), "never") }),
        );
        expect(download).toMatchObject({
          status: 400,
          error: { message: "Only GENERATED files can be downloaded" },
        });
      });
    });
  });

  describe("batch mode", () => {
    const batchOptions: EmulatorOptions = { batches: { pendingMs: 30_000, runningMs: 30_000 } };

    it("runs inline requests to completion and returns each response or error with its metadata", async () => {
      await withEmulator(batchOptions, async (emulator, ai, events) => {
        const file = await uploadSmall(ai);
        const created = await ai.batches.create({
          model: MODEL,
          src: [
            { contents: describeWith(file, "name"), metadata: { image: "blue" } },
            { contents: describeWith({ name: "files/gone" }, "name"), metadata: { image: "missing" } },
          ],
          config: { displayName: "inline" },
        });
        expect(created).toMatchObject({
          displayName: "inline",
          state: "JOB_STATE_PENDING",
          model: `models/${MODEL}`,
        });
        expect(events.at(-1)).toMatchObject({
          path: `/${sdk.apiVersion}/models/${MODEL}:batchGenerateContent`,
          route: "batchGenerateContent",
          model: MODEL,
        });

        const done = await pollUntilDone(ai, emulator, created.name!);
        expect(done.state).toBe("JOB_STATE_SUCCEEDED");
        const [ok, failed] = done.dest?.inlinedResponses ?? [];
        expect(ok?.metadata).toEqual({ image: "blue" });
        expect(ok?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toBe(
          "A 64x32 image, mostly blue (#1030c0).",
        );
        expect(failed).toEqual({
          metadata: { image: "missing" },
          error: {
            code: 7,
            message: "You do not have permission to access the File gone or it may not exist.",
          },
        });
      });
    });

    it("runs requests from an uploaded JSONL file and its results file downloads", async () => {
      await withEmulator(batchOptions, async (emulator, ai) => {
        const image = await uploadSmall(ai);
        const lines = ["a", "b"].map((key) =>
          JSON.stringify({
            key,
            request: {
              contents: [
                {
                  role: "user",
                  parts: [{ fileData: { fileUri: image.uri, mimeType: "image/png" } }, { text: PROMPT }],
                },
              ],
            },
          }),
        );
        const input = await ai.files.upload({
          file: new Blob([lines.join("\n")]),
          config: { mimeType: "jsonl" },
        });
        const created = await ai.batches.create({
          model: MODEL,
          src: input.name!,
          config: { displayName: "from-file" },
        });
        const done = await pollUntilDone(ai, emulator, created.name!);
        expect(done.state).toBe("JOB_STATE_SUCCEEDED");
        const resultsFile = done.dest?.fileName;
        expect(resultsFile).toMatch(/^files\//);

        const dir = await mkdtemp(path.join(tmpdir(), "emulator-batch-"));
        try {
          const downloadPath = path.join(dir, "results.jsonl");
          await ai.files.download({ file: resultsFile!, downloadPath });
          const results = (await readFile(downloadPath, "utf8"))
            .trim()
            .split("\n")
            .map(
              (line) =>
                JSON.parse(line) as {
                  key: string;
                  response: { candidates: { content: { parts: { text: string }[] } }[] };
                },
            );
          expect(
            results.map((result) => [result.key, result.response.candidates[0]?.content.parts[0]?.text]),
          ).toEqual([
            ["a", "A 64x32 image, mostly blue (#1030c0)."],
            ["b", "A 64x32 image, mostly blue (#1030c0)."],
          ]);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    });

    it("lists batches in pages, cancels one, deletes one, and errors on what is not there", async () => {
      await withEmulator(batchOptions, async (emulator, ai) => {
        const request = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };
        const first = await ai.batches.create({ model: MODEL, src: [request] });
        const second = await ai.batches.create({ model: MODEL, src: [request] });
        const pager = await ai.batches.list({ config: { pageSize: 1 } });
        const listed: string[] = [];
        for await (const job of pager) listed.push(job.name!);
        expect(listed).toEqual([second.name, first.name]);

        await ai.batches.cancel({ name: first.name! });
        emulator.clock.advance(60_000);
        expect((await ai.batches.get({ name: first.name! })).state).toBe("JOB_STATE_CANCELLED");

        await ai.batches.delete({ name: second.name! });
        expect((await apiErrorOf(ai.batches.get({ name: second.name! }))).status).toBe(404);

        const missingInput = await apiErrorOf(ai.batches.create({ model: MODEL, src: "files/nosuchinput" }));
        expect(missingInput).toMatchObject({ status: 403, error: { status: "PERMISSION_DENIED" } });
      });
    });
  });
}
