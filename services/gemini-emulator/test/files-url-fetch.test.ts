// http(s) URLs as fileData.fileUri: the emulator fetches them itself, from a local server and from
// the real S3 test server through a pre-signed GET, and never shows a URL's query (its signature).
import { createHash, createHmac } from "node:crypto";
import type { Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestBucket } from "@tessera/testing";
import { useTestBucket } from "@tessera/testing";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions, EmulatorRequestEvent } from "../src/index.ts";
import { startEmulator } from "../src/index.ts";

const KEY = "url-fetch-key";
const SECRET = "X-Amz-Signature=deadbeefcafe";
const CAPTION = "A 320x200 image, mostly green (#10a040).";

let png: Buffer;
let origin: string;
let server: Server;
/** Paths that never answer, so the fetch timeout is what ends them. */
const stalled: ServerResponse[] = [];

beforeAll(async () => {
  png = await sharp({ create: { width: 320, height: 200, channels: 3, background: "#10a040" } })
    .png()
    .toBuffer();
  server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://local").pathname;
    if (path === "/image.png") res.writeHead(200, { "content-type": "image/png" }).end(png);
    else if (path === "/typeless") res.writeHead(200).end(png);
    else if (path === "/page.html") res.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
    else if (path === "/stall") stalled.push(res.writeHead(200, { "content-type": "image/png" }));
    else res.writeHead(404).end("no");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

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

async function generate(
  emulator: Emulator,
  fileData: { fileUri: string; mimeType?: string },
): Promise<{
  status: number;
  body: string;
  json: Record<string, unknown> & { error?: { message: string } };
}> {
  const response = await fetch(`${emulator.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: "POST",
    headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ parts: [{ fileData }, { text: "Describe." }] }] }),
  });
  const body = await response.text();
  return { status: response.status, body, json: JSON.parse(body) as Record<string, unknown> };
}

function textOf(json: Record<string, unknown>): string | undefined {
  const candidates = json["candidates"] as { content: { parts: { text: string }[] } }[] | undefined;
  return candidates?.[0]?.content.parts[0]?.text;
}

describe("fetching URLs from a local server", () => {
  it("captions the fetched image and bills it like inline, typed by the part or by Content-Type", async () => {
    await withEmulator({}, async (emulator) => {
      const typed = await generate(emulator, {
        fileUri: `${origin}/image.png?${SECRET}`,
        mimeType: "image/png",
      });
      expect(typed.status).toBe(200);
      expect(textOf(typed.json)).toBe(CAPTION);
      const untyped = await generate(emulator, { fileUri: `${origin}/image.png` });
      expect(untyped.json["usageMetadata"]).toEqual(typed.json["usageMetadata"]);
    });
  });

  it("400s a fetch that fails, an image of the wrong type and a non-image, never echoing the query", async () => {
    const events: EmulatorRequestEvent[] = [];
    await withEmulator({ onRequest: (event) => events.push(event) }, async (emulator) => {
      const missing = await generate(emulator, {
        fileUri: `${origin}/missing.png?${SECRET}`,
        mimeType: "image/png",
      });
      expect(missing.status).toBe(400);
      expect(missing.json.error?.message).toBe(
        `Cannot fetch the file at ${origin}/missing.png: the server answered HTTP 404.`,
      );

      const closedPort = await freePort();
      const refused = await generate(emulator, {
        fileUri: `http://127.0.0.1:${closedPort}/x.png?${SECRET}`,
        mimeType: "image/png",
      });
      expect(refused.json.error?.message).toBe(
        `Cannot fetch the file at http://127.0.0.1:${closedPort}/x.png: the connection failed (ECONNREFUSED).`,
      );

      const wrongType = await generate(emulator, {
        fileUri: `${origin}/image.png?${SECRET}`,
        mimeType: "image/jpeg",
      });
      expect(wrongType.json.error?.message).toMatch(/^Unable to process input image\./);

      const html = await generate(emulator, { fileUri: `${origin}/page.html?${SECRET}` });
      expect(html.json.error?.message).toBe("Unsupported MIME type: text/html");

      for (const answer of [missing, refused, wrongType, html]) expect(answer.body).not.toContain("deadbeef");
      expect(JSON.stringify(events)).not.toContain("deadbeef");
    });
  });

  it("gives up after urlFetchTimeoutMs, and refuses answers over the per-file limit", async () => {
    await withEmulator(
      { urlFetchTimeoutMs: 200, files: { maxFileBytes: png.length - 1 } },
      async (emulator) => {
        const slow = await generate(emulator, {
          fileUri: `${origin}/stall?${SECRET}`,
          mimeType: "image/png",
        });
        expect(slow.json.error?.message).toBe(
          `Cannot fetch the file at ${origin}/stall: no complete answer within 200 ms.`,
        );
        const big = await generate(emulator, { fileUri: `${origin}/typeless`, mimeType: "image/png" });
        expect(big.json.error?.message).toBe(
          `Cannot fetch the file at ${origin}/typeless: the file is larger than the ${png.length - 1}-byte limit.`,
        );
      },
    );
  });

  it("refuses URLs when allowUrlFetch is off", async () => {
    await withEmulator({ allowUrlFetch: false }, async (emulator) => {
      const answer = await generate(emulator, {
        fileUri: `${origin}/image.png?${SECRET}`,
        mimeType: "image/png",
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error?.message).toBe(`Invalid or unsupported file uri: ${origin}/image.png`);
    });
  });
});

describe("fetching a pre-signed S3 URL", () => {
  let bucket: TestBucket;

  beforeAll(async () => {
    bucket = await useTestBucket();
    await bucket.storage("in").put("green.png", png, { contentType: "image/png" });
  }, 300_000);

  afterAll(async () => {
    await bucket.cleanup();
  });

  it("reads the object through its pre-signed GET, and 400s one with a broken signature without showing it", async () => {
    await withEmulator({}, async (emulator) => {
      const signed = presignGet(bucket, "in/green.png");
      const ok = await generate(emulator, { fileUri: signed, mimeType: "image/png" });
      expect(ok.status).toBe(200);
      expect(textOf(ok.json)).toBe(CAPTION);

      const forged = signed.replace(/X-Amz-Signature=[0-9a-f]+/, "X-Amz-Signature=" + "0".repeat(64));
      const refused = await generate(emulator, { fileUri: forged, mimeType: "image/png" });
      expect(refused.status).toBe(400);
      expect(refused.json.error?.message).toBe(
        `Cannot fetch the file at ${bucket.config.endpoint}/${bucket.bucket}/in/green.png: the server answered HTTP 403.`,
      );
      expect(refused.body).not.toContain("X-Amz");
    });
  });
});

/** A port nothing listens on: one the system just handed out and took back. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A SigV4 query-string signature (path-style, as the test server wants), as S3 presigners make. */
function presignGet(bucket: TestBucket, key: string, expiresSeconds = 600): string {
  const { endpoint, region, credentials } = bucket.config;
  if (endpoint === undefined || credentials === undefined)
    throw new Error("the S3 test server has no endpoint or keys");
  const host = new URL(endpoint).host;
  const path = `/${bucket.bucket}/${key.split("/").map(encodeRfc3986).join("/")}`;
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const params: Record<string, string> = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `${credentials.accessKeyId}/${scope}`,
    "X-Amz-Date": amzDate,
    "X-Amz-Expires": String(expiresSeconds),
    "X-Amz-SignedHeaders": "host",
    ...(credentials.sessionToken === undefined ? {} : { "X-Amz-Security-Token": credentials.sessionToken }),
  };
  const query = Object.keys(params)
    .sort()
    .map((name) => `${encodeRfc3986(name)}=${encodeRfc3986(params[name]!)}`)
    .join("&");
  const canonical = ["GET", path, query, `host:${host}\n`, "host", "UNSIGNED-PAYLOAD"].join("\n");
  const toSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  let signingKey: Buffer = Buffer.from(`AWS4${credentials.secretAccessKey}`);
  for (const part of [day, region, "s3", "aws4_request"])
    signingKey = createHmac("sha256", signingKey).update(part).digest();
  const signature = createHmac("sha256", signingKey).update(toSign).digest("hex");
  return `${new URL(endpoint).origin}${path}?${query}&X-Amz-Signature=${signature}`;
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
