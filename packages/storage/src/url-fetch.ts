import { lookup as dnsLookup } from "node:dns/promises";
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { AccessDeniedError, ObjectTooLargeError, PreconditionFailedError, UrlFetchError } from "./errors.ts";
import { classifyAddress } from "./url-address.ts";
import { redactUrl } from "./url-list.ts";

export interface UrlFetchOptions {
  /** Let URLs reach loopback, link-local and private addresses (tests, trusted intranets). */
  allowPrivate: boolean;
  /** Largest body read from one URL; bigger objects fail as too large. */
  maxBytes: number;
  /** Whole request, redirects and body included; also bounds the connect. */
  timeoutMs: number;
  maxRedirects: number;
  /**
   * IP literals let through although non-public, while everything else stays guarded: how tests
   * serve from 127.0.0.1 and still see a redirect to another private address refused.
   */
  allowAddresses?: readonly string[];
  /** Certificates trusted for https besides the system's (tests; NODE_EXTRA_CA_CERTS in production). */
  ca?: string | Buffer;
  /** The resolver (default dns.lookup with all: true); a seam for tests of rebinding. */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export interface FetchRequest {
  /** Inclusive byte range asked with `Range:`; a server may ignore it and answer 200. */
  range?: [number, number];
  /** Stop reading (and drop the connection) after this many bytes instead of failing. */
  truncateAt?: number;
  /** Sent as If-Match; a 412 becomes PreconditionFailedError. */
  ifMatch?: string;
}

export interface FetchResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body stopped at `truncateAt` before its end. */
  truncated: boolean;
}

interface Pinned {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves the host once, refuses it when ANY of its addresses is non-public (a name with one
 * public and one private record is refused: the client may pick either), and returns the
 * address the connection is then pinned to, so a second resolution (DNS rebinding) cannot
 * switch it to another host.
 */
export async function resolveChecked(
  url: URL,
  opts: Pick<UrlFetchOptions, "allowPrivate" | "allowAddresses" | "resolve">,
): Promise<Pinned> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const where = redactUrl(url);
  let addresses: { address: string; family: number }[];
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (opts.resolve ?? defaultResolve)(host);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // NXDOMAIN is final; a failing resolver may recover.
      const permanent = code === "ENOTFOUND" || code === "ENODATA";
      throw new UrlFetchError(where, `cannot resolve ${host} (${code ?? "lookup failed"})`, {
        permanent,
        cause: err,
      });
    }
  }
  if (!opts.allowPrivate) {
    for (const { address } of addresses) {
      const kind = opts.allowAddresses?.includes(address) === true ? undefined : classifyAddress(address);
      if (kind !== undefined) {
        throw new UrlFetchError(
          where,
          `refused: ${host} resolves to ${address} (${kind}); set TESSERA_URL_ALLOW_PRIVATE=true to allow`,
          { permanent: true, refused: true },
        );
      }
    }
  }
  const first = addresses[0];
  if (first === undefined) throw new UrlFetchError(where, `${host} has no address`, { permanent: true });
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

function defaultResolve(host: string): Promise<{ address: string; family: number }[]> {
  return dnsLookup(host, { all: true, verbatim: true });
}

function pinnedLookup(pinned: Pinned): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

/**
 * GET of an http(s) URL behind the SSRF guard: each redirect hop (at most maxRedirects) is
 * checked again, the scheme must stay http(s), the body is capped at maxBytes and the whole
 * exchange at timeoutMs. 2xx answers are returned; others become storage errors (404/410 and
 * other 4xx permanent, 401/403 AccessDeniedError, 412 PreconditionFailedError, 429 and 5xx
 * transient). Messages name the URL through redactUrl: never its query.
 */
export async function guardedGet(
  start: URL,
  opts: UrlFetchOptions,
  request: FetchRequest = {},
): Promise<FetchResult> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let url = start;
  try {
    for (let hop = 0; ; hop++) {
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new UrlFetchError(redactUrl(start), `refused: redirect to a ${url.protocol} URL`, {
          permanent: true,
          refused: true,
        });
      }
      const pinned = await resolveChecked(url, opts);
      const res = await send(url, pinned, request, signal, opts.ca);
      const location = res.headers.location;
      if (
        res.statusCode !== undefined &&
        res.statusCode >= 300 &&
        res.statusCode < 400 &&
        location !== undefined
      ) {
        res.resume();
        if (hop >= opts.maxRedirects) {
          throw new UrlFetchError(redactUrl(start), `more than ${opts.maxRedirects} redirects`, {
            permanent: true,
          });
        }
        url = new URL(location, url);
        continue;
      }
      return await readBody(url, res, opts, request);
    }
  } catch (err) {
    if (signal.aborted) {
      throw new UrlFetchError(redactUrl(url), `no complete answer within ${opts.timeoutMs} ms`, {
        permanent: false,
        cause: err,
      });
    }
    if (err instanceof Error && !(err instanceof UrlFetchError) && "code" in err && !("where" in err)) {
      const code = String(err.code);
      // A certificate that does not verify will not start verifying on a retry minutes later.
      const permanent = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
      throw new UrlFetchError(redactUrl(url), `request failed (${code})`, { permanent, cause: err });
    }
    throw err;
  }
}

function send(
  url: URL,
  pinned: Pinned,
  request: FetchRequest,
  signal: AbortSignal,
  ca: string | Buffer | undefined,
): Promise<IncomingMessage> {
  const headers: Record<string, string> = { "user-agent": "tessera", "accept-encoding": "identity" };
  if (request.range !== undefined) headers.range = `bytes=${request.range[0]}-${request.range[1]}`;
  if (request.ifMatch !== undefined) headers["if-match"] = `"${request.ifMatch}"`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const options: https.RequestOptions = {
    protocol: url.protocol,
    hostname: host,
    port: url.port === "" ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: "GET",
    headers,
    signal,
    lookup: pinnedLookup(pinned),
    // New connections per request: a pooled socket could outlive the check that admitted it.
    agent: false,
  };
  // The certificate is checked against the URL's host name, not the pinned address.
  if (url.protocol === "https:" && isIP(host) === 0) options.servername = host;
  if (ca !== undefined) options.ca = ca;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(options, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function readBody(
  url: URL,
  res: IncomingMessage,
  opts: UrlFetchOptions,
  request: FetchRequest,
): Promise<FetchResult> {
  const status = res.statusCode ?? 0;
  const where = redactUrl(url);
  if (status < 200 || status >= 300) {
    res.resume();
    if (status === 412 && request.ifMatch !== undefined) throw new PreconditionFailedError(where, "If-Match");
    if (status === 401 || status === 403) throw new AccessDeniedError(where, `HTTP ${status}`);
    const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
    throw new UrlFetchError(where, `HTTP ${status}`, { permanent, status });
  }
  const declared = Number(res.headers["content-length"]);
  const limit = request.truncateAt ?? opts.maxBytes;
  if (request.truncateAt === undefined && Number.isFinite(declared) && declared > opts.maxBytes) {
    res.destroy();
    throw new ObjectTooLargeError(where, declared, opts.maxBytes);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length > limit) {
      res.destroy();
      if (request.truncateAt === undefined)
        throw new ObjectTooLargeError(where, length, opts.maxBytes, false);
      return {
        status,
        headers: res.headers,
        body: Buffer.concat(chunks).subarray(0, limit),
        truncated: true,
      };
    }
  }
  if (!res.complete) throw new UrlFetchError(where, "the connection closed mid-body", { permanent: false });
  return { status, headers: res.headers, body: Buffer.concat(chunks), truncated: false };
}
