// Plumbing shared by the Files, upload, download and batch routes: what a route gets from the
// server (auth, body, the host the client called) and what it gives back (status, headers, body).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteName } from "../stats.ts";

export interface BodyRead {
  bytes: Buffer;
  tooLarge: boolean;
}

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  /** The path's capture groups; the first is always the API version. */
  params: readonly string[];
  /** Scheme and host the client called, e.g. http://127.0.0.1:8787: resource URIs point back at it. */
  baseUrl: string;
  /** The caller's API key; throws the API's 403 or 400 when it is missing or not accepted. */
  apiKey(): string;
  /** The whole body; past `limit` bytes it is drained and dropped (`tooLarge`), so the client still gets an answer. */
  readBody(limit: number): Promise<BodyRead>;
  /** The body as JSON (an empty body is `{}`); throws the API's 400s for bad JSON or a body over the limit. */
  readJson(limit: number): Promise<unknown>;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON unless it is a Buffer (a file download); omitted for an empty body. */
  body?: unknown;
  contentType?: string;
}

export interface ResourceRoute {
  name: RouteName;
  method: "GET" | "POST" | "DELETE";
  /** Matched against the path; group 1 must be the API version. */
  pattern: RegExp;
  /** Routes that carry a model report it, for the request event. */
  model?: (params: readonly string[]) => string | undefined;
  handle(context: RouteContext): Promise<Reply>;
}

export interface ResourceMatch {
  route: ResourceRoute;
  params: string[];
}

/** The route serving this method and path; undefined also when only the method is wrong (the API 404s both). */
export function matchResourceRoute(
  routes: readonly ResourceRoute[],
  method: string,
  pathname: string,
): ResourceMatch | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    try {
      return { route, params: match.slice(1).map((value) => decodeURIComponent(value ?? "")) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  const status = reply.status ?? 200;
  let payload: Buffer;
  let contentType: string | undefined = reply.contentType;
  if (Buffer.isBuffer(reply.body)) {
    payload = reply.body;
    contentType ??= "application/octet-stream";
  } else if (reply.body === undefined) {
    payload = Buffer.alloc(0);
  } else {
    // Google's front end pretty-prints JSON answers, as the model routes do.
    payload = Buffer.from(JSON.stringify(reply.body, null, 2));
    contentType ??= "application/json; charset=UTF-8";
  }
  res.writeHead(status, {
    ...reply.headers,
    ...(contentType === undefined ? {} : { "content-type": contentType }),
    "content-length": payload.length,
  });
  res.end(payload);
}

/** The scheme and host the client used, so the uris the emulator hands out work from where it is called. */
export function baseUrlOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host === undefined || host === "" ? fallback : `http://${host}`;
}
