import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Relative on purpose: @tessera/testing depends on this package (see s3-storage.test.ts).
import { COLORS, makeScene } from "../../testing/src/images.ts";
import type { ObjectInfo, UrlSourceOptions } from "../src/index.ts";
import {
  AccessDeniedError,
  ObjectTooLargeError,
  PreconditionFailedError,
  UrlFetchError,
  isPermanentStorageError,
  openStorage,
} from "../src/index.ts";

const SECRET = "X-Amz-Signature=0123456789abcdefsecret";
let server: Server;
let base: string;
let dir: string;
let png: Buffer;
let jpeg: Buffer;
let version = 1;
const seen: string[] = [];

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  seen.push(`${url.pathname} ${req.headers.range ?? ""}`);
  const ranged = (body: Buffer, etag: string) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    const ifMatch = req.headers["if-match"];
    if (ifMatch !== undefined && ifMatch !== `"${etag}"`) return void res.writeHead(412).end();
    if (range === null)
      return void res.writeHead(200, { etag: `"${etag}"`, "content-length": body.length }).end(body);
    const start = Number(range[1]);
    if (start >= body.length)
      return void res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
    const end = Math.min(Number(range[2]), body.length - 1);
    res.writeHead(206, {
      etag: `"${etag}"`,
      "content-range": `bytes ${start}-${end}/${body.length}`,
      "content-length": end - start + 1,
    });
    res.end(body.subarray(start, end + 1));
  };
  switch (url.pathname) {
    case "/a.png":
      return ranged(png, "png-v1");
    case "/signed.png":
      if (url.search !== `?${SECRET}`) return void res.writeHead(403).end();
      return ranged(png, "signed");
    case "/no-range.jpg":
      // Ignores Range, no ETag: Last-Modified + size stand in.
      res.writeHead(200, { "content-length": jpeg.length, "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT" });
      return void res.end(jpeg);
    case "/chunked.png":
      res.writeHead(200, { "content-type": "image/png" });
      res.write(png.subarray(0, 100));
      return void res.end(png.subarray(100));
    case "/changing.png":
      // Ignores If-Match, so only the ETag comparison after the fetch can notice the change.
      res.writeHead(200, { etag: `"v${version}"`, "content-length": png.length });
      return void res.end(png);
    case "/big.png":
      res.writeHead(200, { "content-length": 5_000_000 });
      return void res.end(Buffer.alloc(5_000_000));
    case "/big-chunked.png":
      res.writeHead(200);
      return void res.end(Buffer.alloc(3_000_000));
    case "/slow.png":
      res.writeHead(200, { "content-length": png.length });
      res.write(png.subarray(0, 10));
      return; // never finishes
    case "/missing.png":
      return void res.writeHead(404).end();
    case "/down.png":
      return void res.writeHead(503).end();
    case "/to-a":
      return void res.writeHead(302, { location: "/a.png" }).end();
    case "/to-metadata":
      return void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    case "/to-v6-loopback":
      return void res.writeHead(301, { location: `http://[::1]:${url.port || 80}/a.png` }).end();
    case "/to-file":
      return void res.writeHead(302, { location: "file:///etc/passwd" }).end();
    case "/loop":
      return void res.writeHead(302, { location: "/loop" }).end();
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  png = await makeScene({ width: 320, height: 200, background: COLORS.blue, format: "png" });
  jpeg = await makeScene({ width: 64, height: 48, background: COLORS.red, format: "jpeg" });
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(tmpdir(), "tessera-urls-"));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function listOf(lines: string[], options: UrlSourceOptions) {
  const file = path.join(dir, `list-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(file, lines.join("\n") + "\n");
  const storage = openStorage(`urls+${pathToFileURL(file).href}`, undefined, options);
  const objects: ObjectInfo[] = [];
  for await (const object of storage.list()) objects.push(object);
  return { storage, objects, byPath: (p: string) => objects.find((o) => o.key.endsWith(p))! };
}

const ALLOWED: UrlSourceOptions = { allowPrivate: true, maxBytes: 1_000_000, timeoutMs: 2_000 };

describe("URL list source (loopback allowed by TESSERA_URL_ALLOW_PRIVATE)", () => {
  it("lists with sizes and ETags from one ranged probe, serves the header from it, fetches whole", async () => {
    const { storage, objects, byPath } = await listOf(
      [`${base}/a.png`, `${base}/no-range.jpg`, `${base}/chunked.png`, `${base}/signed.png?${SECRET}`],
      ALLOWED,
    );
    expect(objects.map((o) => o.key)).toEqual(
      [
        `127.0.0.1_${new URL(base).port}/a.png`,
        `127.0.0.1_${new URL(base).port}/chunked.png`,
        `127.0.0.1_${new URL(base).port}/no-range.jpg`,
        expect.stringMatching(/\/signed~q[0-9a-f]{12}\.png$/),
      ].sort(),
    );
    expect(byPath("/a.png")).toMatchObject({ size: png.length, etag: "png-v1" });
    expect(byPath("/no-range.jpg")).toMatchObject({
      size: jpeg.length,
      etag: `lm:${Date.parse("2026-12-01T10:00:00Z")}:${jpeg.length}`,
    });
    expect(byPath("/chunked.png")).toMatchObject({ size: png.length, etag: `size:${png.length}` });
    const signed = objects.find((o) => o.key.includes("signed"))!;
    expect(signed).toMatchObject({ size: png.length, etag: "signed" });
    expect(JSON.stringify(objects) + storage.describe(signed.key)).not.toContain("secret");

    const before = seen.length;
    expect(await storage.getRange(byPath("/a.png").key, 0, 7)).toEqual(png.subarray(0, 8));
    expect(seen.length).toBe(before); // answered from the probe
    expect(await storage.get(byPath("/a.png").key, { ifMatch: "png-v1" })).toEqual(png);
    expect(await storage.get(byPath("/no-range.jpg").key, { ifMatch: byPath("/no-range.jpg").etag })).toEqual(
      jpeg,
    );
    expect(await storage.get(signed.key, { ifMatch: "signed" })).toEqual(png);
    expect(await storage.getRange(byPath("/no-range.jpg").key, 2, 5)).toEqual(jpeg.subarray(2, 6));
  });

  it("follows redirects, re-checked, at most a few", async () => {
    const { storage, byPath } = await listOf([`${base}/to-a`, `${base}/loop`, `${base}/to-file`], ALLOWED);
    expect(byPath("/to-a")).toMatchObject({ size: png.length, etag: "png-v1" });
    await expect(storage.getRange(byPath("/loop").key, 0, 1)).rejects.toThrow(/more than 5 redirects/);
    await expect(storage.getRange(byPath("/to-file").key, 0, 1)).rejects.toThrow(
      /refused: redirect to a file: URL/,
    );
  });

  it("fails one URL with a clear, classed reason: too big, 404, 503, timeout", async () => {
    const { storage, byPath } = await listOf(
      [
        `${base}/big.png`,
        `${base}/big-chunked.png`,
        `${base}/missing.png`,
        `${base}/down.png`,
        `${base}/slow.png`,
        `${base}/a.png`,
      ],
      { ...ALLOWED, timeoutMs: 400 },
    );
    const failure = (p: string) => storage.getRange(byPath(p).key, 0, 15).catch((err: unknown) => err);
    const big = await failure("/big.png");
    expect(big).toBeInstanceOf(ObjectTooLargeError);
    expect(isPermanentStorageError(big)).toBe(true);
    await expect(storage.get(byPath("/big.png").key)).rejects.toThrow(/5000000 bytes, more than the 1000000/);
    expect(await failure("/big-chunked.png")).toBeInstanceOf(ObjectTooLargeError);
    const missing = await failure("/missing.png");
    expect(missing).toBeInstanceOf(UrlFetchError);
    expect(String(missing)).toMatch(/missing\.png: HTTP 404/);
    expect(isPermanentStorageError(missing)).toBe(true);
    const down = await failure("/down.png");
    expect(String(down)).toMatch(/HTTP 503/);
    expect(isPermanentStorageError(down)).toBe(false);
    const slow = await failure("/slow.png");
    expect(String(slow)).toMatch(/slow\.png: no complete answer within 400 ms/);
    expect(isPermanentStorageError(slow)).toBe(false);
    // The others were not held up by the failures.
    expect(byPath("/a.png").size).toBe(png.length);
  });

  it("a changed object fails the worker's get with PreconditionFailedError", async () => {
    version = 1;
    const { storage, byPath } = await listOf([`${base}/changing.png`, `${base}/a.png`], ALLOWED);
    const listed = byPath("/changing.png");
    expect(listed.etag).toBe("v1");
    version = 2;
    await expect(storage.get(listed.key, { ifMatch: listed.etag })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    // A server that honours If-Match answers 412.
    await expect(storage.get(byPath("/a.png").key, { ifMatch: "png-v0" })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
  });

  it("is read-only", async () => {
    const { storage } = await listOf([`${base}/a.png`], ALLOWED);
    await expect(storage.checkAccess({ write: true })).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(storage.put("x", "y", { contentType: "text/plain" })).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    expect(await storage.presignGet("x", 60)).toBeUndefined();
  });
});

describe("URL list source, guarded (the default)", () => {
  it("refuses loopback with a reason naming the address and the switch", async () => {
    const { storage, objects } = await listOf([`${base}/signed.png?${SECRET}`], { timeoutMs: 2_000 });
    const before = seen.length;
    const err = await storage.getRange(objects[0]!.key, 0, 15).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UrlFetchError);
    expect(isPermanentStorageError(err)).toBe(true);
    expect(String(err)).toMatch(
      /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1 \(loopback\); set TESSERA_URL_ALLOW_PRIVATE=true/,
    );
    expect(String(err)).not.toContain("secret");
    await expect(storage.get(objects[0]!.key)).rejects.toThrow(/loopback/);
    expect(seen.length).toBe(before); // nothing reached the server
    const port = new URL(base).port;
    const named = await listOf([`http://localhost:${port}/a.png`], {});
    await expect(named.storage.getRange(named.objects[0]!.key, 0, 1)).rejects.toThrow(
      /refused: localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/,
    );
    // Other spellings of loopback, normalised by the URL parser, and the mapped IPv6 form.
    const spelled = await listOf(
      [
        `http://2130706433:${port}/a.png`,
        `http://0x7f.1:${port}/b.png`,
        `http://[::ffff:127.0.0.1]:${port}/c.png`,
      ],
      {},
    );
    for (const object of spelled.objects) {
      await expect(spelled.storage.getRange(object.key, 0, 1)).rejects.toThrow(/\(loopback\)/);
    }
    expect(seen.length).toBe(before);
  });

  it("refuses a redirect to a refused address, with the first hop let through", async () => {
    const port = new URL(base).port;
    const { storage, objects } = await listOf(
      [`${base}/to-metadata`, `${base}/to-v6-loopback`, `${base}/a.png`],
      { timeoutMs: 2_000, allowAddresses: ["127.0.0.1"] },
    );
    const key = (start: string) => objects.find((o) => o.key.startsWith(start))!.key;
    expect(objects.find((o) => o.key === `127.0.0.1_${port}/a.png`)?.size).toBe(png.length); // let through
    const reason = (k: string) => storage.getRange(k, 0, 1).catch((e: unknown) => String(e));
    expect(await reason(key(`127.0.0.1_${port}/to-metadata`))).toMatch(
      /refused: 169\.254\.169\.254 resolves to 169\.254\.169\.254 \(link-local\)/,
    );
    expect(await reason(key(`127.0.0.1_${port}/to-v6-loopback`))).toMatch(
      /refused: ::1 resolves to ::1 \(loopback\)/,
    );
  });
});

describe("URL list source, list file", () => {
  it("re-reads a list edited after it was loaded when a key is not found", async () => {
    const file = path.join(dir, "edited.txt");
    await writeFile(file, `${base}/a.png\n`);
    const storage = openStorage(`urls+${pathToFileURL(file).href}`, undefined, ALLOWED);
    await storage.checkAccess();
    await writeFile(file, `${base}/a.png\n${base}/no-range.jpg\n`);
    const key = `127.0.0.1_${new URL(base).port}/no-range.jpg`;
    expect(await storage.get(key)).toEqual(jpeg);
    await expect(storage.get(`127.0.0.1_${new URL(base).port}/nowhere.png`)).rejects.toThrow(
      /no such object/,
    );
  });

  it("names a missing list and a bad line", async () => {
    const missing = openStorage(`urls+${pathToFileURL(path.join(dir, "nope.txt")).href}`);
    await expect(missing.checkAccess()).rejects.toThrow(/nope\.txt: cannot read the URL list/);
    const file = path.join(dir, "bad.txt");
    await writeFile(file, `${base}/a.png\nftp://x/y?token=hunter2secret\n`);
    const bad = openStorage(`urls+${pathToFileURL(file).href}`);
    const err = await bad.checkAccess().catch((e: unknown) => String(e));
    expect(err).toMatch(/bad\.txt line 2": unsupported scheme "ftp:"/);
    expect(err).not.toContain("hunter2");
  });
});

describe("URL list source, ranges", () => {
  it("answers a range past the end with no bytes, with or without the probe", async () => {
    const { storage, objects } = await listOf([`${base}/a.png`], ALLOWED);
    const key = objects[0]!.key;
    expect(await storage.getRange(key, png.length + 10, png.length + 20)).toEqual(Buffer.alloc(0));
    const fresh = openStorage(storage.describe(), undefined, ALLOWED);
    expect(await fresh.getRange(key, png.length + 10, png.length + 20)).toEqual(Buffer.alloc(0));
    expect(await fresh.getRange(key, png.length - 4, png.length + 20)).toEqual(png.subarray(png.length - 4));
  });
});

describe("URL list source, DNS pinning", () => {
  it("connects to the address it checked, never resolving again (no rebinding)", async () => {
    const answers = [["127.0.0.1"], ["10.9.9.9"], ["10.9.9.9"]];
    const asked: string[] = [];
    const resolve = (host: string) => {
      asked.push(host);
      const next = answers.shift() ?? ["10.9.9.9"];
      return Promise.resolve(next.map((address) => ({ address, family: 4 })));
    };
    const port = new URL(base).port;
    const { storage, objects } = await listOf([`http://rebind.invalid:${port}/a.png`], {
      timeoutMs: 2_000,
      allowAddresses: ["127.0.0.1"],
      resolve,
    });
    // The first answer was checked and used for the connection: the name itself does not exist,
    // so any second resolution by the HTTP client would have failed or reached 10.9.9.9.
    expect(objects[0]).toMatchObject({ key: `rebind.invalid_${port}/a.png`, size: png.length });
    expect(asked).toEqual(["rebind.invalid"]);
    // The next request resolves again and is refused on what it gets now.
    await expect(storage.get(objects[0]!.key)).rejects.toThrow(
      /rebind\.invalid resolves to 10\.9\.9\.9 \(private\)/,
    );
  });
});

describe("URL list source over https", () => {
  it("pins the address yet checks the certificate against the host name", async () => {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-days", "1"],
        ...["-subj", "/CN=tessera-tls.test", "-addext", "subjectAltName=DNS:tessera-tls.test"],
      ],
      { stdio: "ignore" },
    );
    const cert = await readFile(path.join(dir, "cert.pem"));
    const tls = createTlsServer({ key: await readFile(path.join(dir, "key.pem")), cert }, serve);
    await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
    try {
      const port = (tls.address() as AddressInfo).port;
      const options: UrlSourceOptions = {
        timeoutMs: 2_000,
        allowAddresses: ["127.0.0.1"],
        ca: cert,
        resolve: () => Promise.resolve([{ address: "127.0.0.1", family: 4 }]),
      };
      const { storage, objects } = await listOf(
        [`https://tessera-tls.test:${port}/a.png`, `https://127.0.0.1:${port}/a.png`],
        options,
      );
      const named = objects.find((o) => o.key.startsWith("tessera-tls.test"))!;
      expect(named).toMatchObject({ size: png.length, etag: "png-v1" });
      expect(await storage.get(named.key, { ifMatch: named.etag })).toEqual(png);
      // The same server by address: its certificate does not name 127.0.0.1.
      const byAddress = objects.find((o) => o.key.startsWith("127.0.0.1"))!;
      const refused = await storage.getRange(byAddress.key, 0, 1).catch((e: unknown) => e);
      expect(String(refused)).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(isPermanentStorageError(refused)).toBe(true);
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
    }
  });
});
