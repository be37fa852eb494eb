import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { S3Client } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { retryable, S3RangeReader, s3ErrorOf } from "./s3-range-reader.ts";

// Answers RGW never gives (ignored ranges, throttling, a skewed clock), from a local HTTP server;
// the reader's ordinary answers are covered against the real S3 server in test/s3-storage.test.ts.
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

const servers: http.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: Handler): Promise<{ client: S3Client; seen: http.IncomingMessage[] }> {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    handler(req, res, seen.length);
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const client = new S3Client({
    region: "eu-central-1",
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "session" },
  });
  return { client, seen };
}

const body = Buffer.from("0123456789abcdef");

function partial(req: http.IncomingMessage, res: http.ServerResponse): void {
  const [, from, to] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "") ?? [];
  const slice = body.subarray(Number(from), Number(to) + 1);
  res.writeHead(206, { "content-length": slice.length }).end(slice);
}

describe("S3RangeReader", () => {
  it("sends a SigV4-signed ranged GET to the address and scope the SDK presigns", async () => {
    const { client, seen } = await serve(partial);
    const reader = (await S3RangeReader.open(client, "bucket"))!;
    expect(await reader.read("photos/a b.jpg", 2, 5)).toEqual(Buffer.from("2345"));
    const req = seen[0]!;
    expect(req.url).toBe("/bucket/photos/a%20b.jpg");
    expect(req.headers.range).toBe("bytes=2-5");
    expect(req.headers["x-amz-security-token"]).toBe("session");
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-central-1\/s3\/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    reader.close();
  });

  it("keeps only the asked bytes when a server ignores the range and sends the whole object", async () => {
    const { client } = await serve((_req, res) => res.writeHead(200).end(body));
    const reader = (await S3RangeReader.open(client, "bucket"))!;
    expect(await reader.read("k", 3, 6)).toEqual(Buffer.from("3456"));
    expect(await reader.read("k", 10, 99)).toEqual(Buffer.from("abcdef"));
    reader.close();
  });

  it("retries throttling and 5xx with backoff, then gives up after maxAttempts", async () => {
    const slowDown =
      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    const flaky = await serve((req, res, n) =>
      n < 3 ? res.writeHead(503).end(slowDown) : partial(req, res),
    );
    const reader = (await S3RangeReader.open(flaky.client, "bucket", { maxAttempts: 3 }))!;
    expect(await reader.read("k", 0, 1)).toEqual(Buffer.from("01"));
    expect(flaky.seen).toHaveLength(3);
    reader.close();

    const down = await serve((_req, res) =>
      res.writeHead(500).end("<Error><Code>InternalError</Code></Error>"),
    );
    const giveUp = (await S3RangeReader.open(down.client, "bucket", { maxAttempts: 2 }))!;
    await expect(giveUp.read("k", 0, 1)).rejects.toMatchObject({
      name: "InternalError",
      $metadata: { httpStatusCode: 500 },
    });
    expect(down.seen).toHaveLength(2);
    giveUp.close();
  });

  it("does not retry a missing key or a refused signature", async () => {
    const missing = await serve((_req, res) =>
      res.writeHead(404).end("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"),
    );
    const reader = (await S3RangeReader.open(missing.client, "bucket"))!;
    await expect(reader.read("k", 0, 1)).rejects.toMatchObject({ name: "NoSuchKey", message: "gone" });
    expect(missing.seen).toHaveLength(1);
    reader.close();
  });

  it("corrects its clock from the server's Date after RequestTimeTooSkewed", async () => {
    const serverTime = new Date(Date.now() + 3 * 3600_000);
    const { client, seen } = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(403, { date: serverTime.toUTCString() });
        res.end("<Error><Code>RequestTimeTooSkewed</Code></Error>");
      } else partial(req, res);
    });
    const reader = (await S3RangeReader.open(client, "bucket"))!;
    expect(await reader.read("k", 0, 0)).toEqual(Buffer.from("0"));
    const hour = (req: http.IncomingMessage) => String(req.headers["x-amz-date"]).slice(0, 11);
    expect(hour(seen[1]!)).toBe(serverTime.toISOString().replace(/[-:]/g, "").slice(0, 11));
    expect(hour(seen[0]!)).not.toBe(hour(seen[1]!));
    reader.close();
  });

  it("fails a read that gets no answer in time, as a retryable network error", async () => {
    const { client, seen } = await serve(() => undefined);
    const reader = (await S3RangeReader.open(client, "bucket", { timeoutMs: 100, maxAttempts: 2 }))!;
    const error = await reader.read("k", 0, 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ETIMEDOUT" });
    expect(retryable(error)).toBe(true);
    expect(seen).toHaveLength(2);
    reader.close();
  });

  it("is not used where the SDK cannot sign with plain SigV4 (no credentials)", async () => {
    const client = new S3Client({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: () => Promise.reject(new Error("no credentials")),
    });
    expect(await S3RangeReader.open(client, "bucket")).toBeUndefined();
  });
});

describe("s3ErrorOf", () => {
  it("shapes an S3 error answer like the SDK, a bodiless one by its status", () => {
    expect(s3ErrorOf(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>")).toMatchObject({
      name: "AccessDenied",
      message: "no",
      $metadata: { httpStatusCode: 403 },
    });
    expect(s3ErrorOf(404, "")).toMatchObject({ name: "NotFound", $metadata: { httpStatusCode: 404 } });
    expect(s3ErrorOf(502, "bad gateway")).toMatchObject({ name: "HTTP502" });
    expect(retryable(s3ErrorOf(502, ""))).toBe(true);
    expect(retryable(s3ErrorOf(429, ""))).toBe(true);
    expect(retryable(s3ErrorOf(403, ""))).toBe(false);
  });
});
