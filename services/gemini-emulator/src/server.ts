import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ApiErrorBody } from "./errors.ts";
import {
  EmulatorApiError,
  deadlineExceeded,
  internalError,
  invalidApiKey,
  invalidArgument,
  missingApiKey,
  modelNotFound,
  overloaded,
  payloadTooLarge,
  quotaExceeded,
  routeNotFound,
} from "./errors.ts";
import type { FaultCode } from "./faults.ts";
import { FaultInjector } from "./faults.ts";
import { countTokens, generateContent } from "./generate.ts";
import type { EmulatorOptions, EmulatorRequestEvent, ServedModel } from "./options.ts";
import { EMULATOR_DEFAULTS, resolveModels } from "./options.ts";
import { parseCountTokensRequest, parseGenerateContentRequest } from "./request.ts";
import type { EmulatorStats, RouteName } from "./stats.ts";
import { createStats, recordRequest, resetStats } from "./stats.ts";

export interface Emulator {
  /** Base URL for the SDK's `httpOptions.baseUrl`, e.g. http://127.0.0.1:41234 (no version, no slash). */
  url: string;
  port: number;
  /** Live counters; the same object for the emulator's lifetime. */
  stats: EmulatorStats;
  /** Makes the next `count` requests that reach a model fail with `code` (default 503). */
  failNext(count: number, code?: FaultCode): void;
  resetStats(): void;
  /** Stops listening and drops open connections, in-flight requests included. */
  close(): Promise<void>;
}

type Method = "generateContent" | "countTokens";

interface Route {
  apiVersion: string;
  model: string;
  method: Method;
}

const ROUTE = /^\/(v1|v1beta)\/models\/([^/:]+):(generateContent|countTokens)$/;
const REDACTED = "<redacted>";

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const models = resolveModels(options);
  const faults = new FaultInjector({
    faults: options.faults,
    latencyMs: options.latencyMs,
    seed: options.seed ?? EMULATOR_DEFAULTS.seed,
  });
  const retryDelaySeconds = options.faults?.retryDelaySeconds ?? EMULATOR_DEFAULTS.retryDelaySeconds;
  const maxRequestBytes = options.maxRequestBytes ?? EMULATOR_DEFAULTS.maxRequestBytes;
  const apiKeys = options.apiKeys === undefined ? undefined : new Set(options.apiKeys);
  const stats = createStats();

  const faultError = (code: FaultCode, model: string): EmulatorApiError => {
    switch (code) {
      case 429:
        return quotaExceeded(model, retryDelaySeconds);
      case 500:
        return internalError();
      case 503:
        return overloaded();
      case 504:
        return deadlineExceeded();
    }
  };

  /** Everything between "the body has arrived" and "here is the 200 body"; failures throw. */
  const answer = async (
    req: IncomingMessage,
    url: URL,
    route: Route | undefined,
    body: BodyRead,
  ): Promise<unknown> => {
    if (route === undefined || req.method !== "POST") throw routeNotFound(req.method ?? "?", url.pathname);
    const apiKey = headerValue(req, "x-goog-api-key") ?? url.searchParams.get("key") ?? "";
    if (apiKey === "") throw missingApiKey();
    if (apiKeys !== undefined && !apiKeys.has(apiKey)) throw invalidApiKey();
    if (body.tooLarge) throw payloadTooLarge(maxRequestBytes);
    const json = parseJson(body.bytes);

    const served: ServedModel | undefined = models.get(route.model);
    if (served === undefined) throw modelNotFound(route.model, route.apiVersion, route.method);

    const decision = faults.next();
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.fault !== undefined) throw faultError(decision.fault, route.model);

    const context = { model: route.model, maxImages: served.maxImages };
    const call = { model: route.model, rule: served.rule };
    if (route.method === "countTokens") {
      const request = parseCountTokensRequest(json, context);
      stats.imagesSeen += request.images.length;
      return countTokens(request, call);
    }
    const request = parseGenerateContentRequest(json, context);
    stats.imagesSeen += request.images.length;
    const { response, billing } = await generateContent(request, call);
    stats.billedPromptTokens += billing.promptTokens;
    stats.billedOutputTokens += billing.outputTokens;
    return response;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const route = matchRoute(url.pathname);
    let status = 200;
    let error: string | undefined;
    try {
      const body = await readBody(req, maxRequestBytes);
      sendJson(res, 200, await answer(req, url, route, body));
    } catch (thrown) {
      const apiError = thrown instanceof EmulatorApiError ? thrown : internalError(describe(thrown));
      status = apiError.code;
      error = apiError.message;
      sendJson(res, status, apiError.body satisfies ApiErrorBody);
    }
    const routeName: RouteName = route?.method ?? "unmatched";
    recordRequest(stats, routeName, route?.apiVersion, status);
    notify(options.onRequest, {
      method: req.method ?? "?",
      path: redactedPath(url),
      route: routeName,
      apiVersion: route?.apiVersion,
      model: route?.model,
      status,
      durationMs: performance.now() - started,
      headers: redactedHeaders(req),
      error,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((thrown: unknown) => {
      // Only reachable if writing the answer itself failed (client gone): nothing left to tell.
      res.destroy(thrown instanceof Error ? thrown : undefined);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? EMULATOR_DEFAULTS.port, options.host ?? EMULATOR_DEFAULTS.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats,
    failNext: (count, code = 503) => faults.failNext(count, code),
    resetStats: () => resetStats(stats),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((closeError) => (closeError ? reject(closeError) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function matchRoute(pathname: string): Route | undefined {
  const match = ROUTE.exec(pathname);
  if (!match) return undefined;
  let model: string;
  try {
    model = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  return { apiVersion: match[1]!, model, method: match[3] as Method };
}

interface BodyRead {
  bytes: Buffer;
  tooLarge: boolean;
}

/** Reads the whole body even past the limit (dropping it), so the client gets our answer, not a reset. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) chunks.length = 0;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve({ bytes: Buffer.concat(chunks), tooLarge: size > limit }));
    req.on("error", reject);
  });
}

function parseJson(bytes: Buffer): unknown {
  // An empty body is an empty message in proto JSON; the request checks then say what is missing.
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch (error) {
    throw invalidArgument(`Invalid JSON payload received. ${describe(error)}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // Google's front end pretty-prints JSON answers; matching it keeps logs and diffs familiar.
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function redactedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const secret = name === "x-goog-api-key" || name === "authorization";
    headers[name] = secret ? REDACTED : Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function redactedPath(url: URL): string {
  if (!url.searchParams.has("key")) return url.pathname + url.search;
  const copy = new URL(url);
  copy.searchParams.set("key", REDACTED);
  return copy.pathname + copy.search;
}

function notify(hook: EmulatorOptions["onRequest"], event: EmulatorRequestEvent): void {
  if (hook === undefined) return;
  try {
    hook(event);
  } catch {
    // A broken logging hook must not take the emulator down with it.
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
