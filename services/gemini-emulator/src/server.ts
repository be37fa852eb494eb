import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { AdminSnapshot, StoreStatsSources } from "./admin.ts";
import { ADMIN_PREFIX, adminSnapshot, handleAdmin } from "./admin.ts";
import { bothHooks, requestLogger } from "./admin-log.ts";
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
import type { ErrorFault, FaultCode, FaultName } from "./faults.ts";
import { FaultInjector } from "./faults.ts";
import type { EmulatorClock } from "./files/clock.ts";
import { createClock } from "./files/clock.ts";
import type { ResourceMatch, RouteContext } from "./files/http.ts";
import { baseUrlOf, matchResourceRoute, sendReply } from "./files/http.ts";
import { createResources } from "./files/resources.ts";
import type { ModelCall } from "./generate.ts";
import { countTokens, generateContent } from "./generate.ts";
import { FAULT_HEADER, describeFaults } from "./markers.ts";
import { requestFaultSpec } from "./markers-request.ts";
import { applyContentFaults } from "./odd-shapes.ts";
import type { EmulatorOptions, EmulatorRequestEvent, ServedModel } from "./options.ts";
import { EMULATOR_DEFAULTS, resolveModels } from "./options.ts";
import { RateLimiter } from "./rate-limit.ts";
import { rateLimitExceeded } from "./rate-limit-errors.ts";
import type { LimitKind } from "./rate-limit-tiers.ts";
import { parseCountTokensRequest, parseGenerateContentRequest } from "./request.ts";
import type { EmulatorStats, RouteName } from "./stats.ts";
import {
  createOperationStats,
  createStats,
  recordFaults,
  recordRateLimited,
  recordRequest,
  resetOperationStats,
  resetStats,
} from "./stats.ts";
import { checkInputTokens, checkMaxOutputTokens } from "./usage.ts";

export interface Emulator {
  /** Base URL for the SDK's `httpOptions.baseUrl`, e.g. http://127.0.0.1:41234 (no version, no slash). */
  url: string;
  port: number;
  /** Live counters; the same object for the emulator's lifetime. */
  stats: EmulatorStats;
  /**
   * Makes the next `count` requests that reach a model fail with `code` (default 503); content
   * faults ("block", "fence", ...) apply to the next generateContent calls.
   */
  failNext(count: number, code?: FaultCode | FaultName): void;
  resetStats(): void;
  /** What `GET /_emulator/stats` answers: the counters above plus faults, limits, stores and clock. */
  snapshot(): AdminSnapshot;
  /** The emulator's time (rate-limit windows, file expiry); `advance` moves it on. */
  clock: EmulatorClock;
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

export async function startEmulator(emulatorOptions: EmulatorOptions = {}): Promise<Emulator> {
  // One clock for everything that ages, wrapping the caller's so /_emulator/clock can move it on.
  const clock = createClock(emulatorOptions.clock);
  const options: EmulatorOptions = { ...emulatorOptions, clock };
  const models = resolveModels(options);
  const faults = new FaultInjector({
    faults: options.faults,
    latencyMs: options.latencyMs,
    seed: options.seed ?? EMULATOR_DEFAULTS.seed,
  });
  const limiter = new RateLimiter(options.rateLimits, clock);
  const limitedModels = Object.keys(options.rateLimits?.byModel ?? {}).filter((model) => !models.has(model));
  if (limitedModels.length > 0) {
    throw new RangeError(`rateLimits.byModel names models not served: ${limitedModels.join(", ")}`);
  }
  const maxRequestBytes = options.maxRequestBytes ?? EMULATOR_DEFAULTS.maxRequestBytes;
  const maskSize = options.sight?.maskSize;
  if (maskSize !== undefined && maskSize !== "box" && !(Number.isInteger(maskSize) && maskSize >= 1)) {
    throw new RangeError(`sight.maskSize must be "box" or an integer >= 1, got ${String(maskSize)}`);
  }
  const apiKeys = options.apiKeys === undefined ? undefined : new Set(options.apiKeys);
  const stats = createStats();
  const operations = createOperationStats();
  const onRequest = bothHooks(requestLogger(options.log), options.onRequest);
  let selfUrl = "";
  const resources = createResources({ options, clock, models, maxRequestBytes, selfUrl: () => selfUrl });
  const stores: StoreStatsSources = {
    files: () => resources.files.totals(),
    batches: () => resources.batches.totals(),
  };
  const admin = {
    stats,
    operations,
    faults,
    limiter,
    clock,
    models: [...models.keys()],
    stores,
    reset: () => {
      resetStats(stats);
      resetOperationStats(operations);
      limiter.clearUsage();
      faults.clearForced();
    },
  };

  const faultError = (fault: Exclude<ErrorFault, "reset">, model: string): EmulatorApiError => {
    switch (fault) {
      case "429":
        return quotaExceeded(
          model,
          faults.settings.faults?.retryDelaySeconds ?? EMULATOR_DEFAULTS.retryDelaySeconds,
        );
      case "500":
        return internalError();
      case "503":
        return overloaded();
      case "504":
        return deadlineExceeded();
    }
  };

  /** Everything between "the body has arrived" and "here is the 200 body"; failures throw. */
  const answer = async (
    req: IncomingMessage,
    url: URL,
    route: Route | undefined,
    body: BodyRead,
    notes: RequestNotes,
  ): Promise<unknown> => {
    if (route === undefined || req.method !== "POST") throw routeNotFound(req.method ?? "?", url.pathname);
    const apiKey = headerValue(req, "x-goog-api-key") ?? url.searchParams.get("key") ?? "";
    if (apiKey === "") throw missingApiKey();
    if (apiKeys !== undefined && !apiKeys.has(apiKey)) throw invalidApiKey();
    if (body.tooLarge) throw payloadTooLarge(maxRequestBytes);
    const json = parseJson(body.bytes);

    const served: ServedModel | undefined = models.get(route.model);
    if (served === undefined) throw modelNotFound(route.model, route.apiVersion, route.method);

    const resolveFile = await resources.fileResolver(json, apiKey, baseUrlOf(req, selfUrl));
    const context = { model: route.model, maxImages: served.maxImages, resolveFile };
    const call: ModelCall = { model: route.model, rule: served.rule, sight: options.sight };
    const generate = route.method === "generateContent";
    const request = generate
      ? parseGenerateContentRequest(json, context)
      : parseCountTokensRequest(json, context);
    if (generate) notes.texts = request.texts;
    const marked = requestFaultSpec(headerValue(req, FAULT_HEADER), request.images, generate);
    // Sizes only (no pixels yet): what the window limits and the context window are checked against.
    const counted = await countTokens(request, call);

    let release = (): void => {};
    if (generate) {
      try {
        checkMaxOutputTokens(request.generation.maxOutputTokens, served.maxOutputTokens);
        checkInputTokens(counted.totalTokens, served.maxInputTokens);
      } catch (error) {
        operations.tokenLimitRejections += 1;
        throw error;
      }
      const admission = limiter.admit(apiKey, route.model, counted.totalTokens);
      if (!admission.admitted) {
        const kinds: LimitKind[] = admission.violations.map((violation) => violation.kind);
        recordRateLimited(operations, kinds);
        notes.rateLimited = kinds;
        throw rateLimitExceeded(
          route.model,
          admission.violations,
          admission.retryDelayMs,
          limiter.options.tier,
        );
      }
      release = admission.release;
    }

    const decision = faults.next(route.method, marked);
    notes.faults = describeFaults(decision.error, decision.content);
    recordFaults(operations, notes.faults);
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.error !== undefined && decision.error !== "reset") {
      // The API does not charge quota for a 429, injected or not.
      if (decision.error === "429") release();
      throw faultError(decision.error, route.model);
    }
    notes.reset = decision.error === "reset";

    stats.imagesSeen += request.images.length;
    if (!generate) return counted;
    const { response } = await generateContent(request, call);
    const shaped = applyContentFaults(response, decision.content, decision.truncateTokens);
    // Billed even when the connection is then reset: the model did the work.
    stats.billedPromptTokens += response.usageMetadata.promptTokenCount;
    stats.billedOutputTokens += shaped.outputTokens;
    return shaped.response;
  };

  const authorize = (req: IncomingMessage, url: URL): string => {
    const apiKey = headerValue(req, "x-goog-api-key") ?? url.searchParams.get("key") ?? "";
    if (apiKey === "") throw missingApiKey();
    if (apiKeys !== undefined && !apiKeys.has(apiKey)) throw invalidApiKey();
    return apiKey;
  };

  /** Files, uploads and batches: each route reads the body itself, with its own limit. */
  const answerResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    match: ResourceMatch,
  ): Promise<void> => {
    let bodyRead = false;
    const read = (limit: number): Promise<BodyRead> => {
      bodyRead = true;
      return readBody(req, limit);
    };
    const context: RouteContext = {
      req,
      url,
      params: match.params,
      baseUrl: baseUrlOf(req, selfUrl),
      apiKey: () => authorize(req, url),
      readBody: read,
      readJson: async (limit) => {
        const body = await read(limit);
        if (body.tooLarge) throw payloadTooLarge(limit);
        return parseJson(body.bytes);
      },
    };
    try {
      sendReply(res, await match.route.handle(context));
    } catch (thrown) {
      // Answering before the client has sent its (maybe 8 MiB) chunk would reset the connection.
      if (!bodyRead) await readBody(req, 0);
      throw thrown;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    if (url.pathname.startsWith(ADMIN_PREFIX)) return handleAdmin(admin, req, res, url.pathname);
    const route = matchRoute(url.pathname);
    const resource =
      route === undefined ? matchResourceRoute(resources.routes, req.method ?? "", url.pathname) : undefined;
    const notes: RequestNotes = {};
    let status = 200;
    let error: string | undefined;
    try {
      if (resource !== undefined) {
        await answerResource(req, res, url, resource);
      } else {
        const body = await readBody(req, maxRequestBytes);
        const answered = await answer(req, url, route, body, notes);
        if (notes.reset === true) error = sendThenReset(res, answered);
        else sendJson(res, 200, answered);
      }
    } catch (thrown) {
      const apiError = thrown instanceof EmulatorApiError ? thrown : internalError(describe(thrown));
      status = apiError.code;
      error = apiError.message;
      sendJson(res, status, apiError.body satisfies ApiErrorBody);
    }
    const routeName: RouteName = route?.method ?? resource?.route.name ?? "unmatched";
    const apiVersion = route?.apiVersion ?? resource?.params[0];
    recordRequest(stats, routeName, apiVersion, status);
    notify(onRequest, {
      method: req.method ?? "?",
      path: redactedPath(url),
      route: routeName,
      apiVersion,
      model: route?.model ?? resource?.route.model?.(resource.params),
      status,
      durationMs: performance.now() - started,
      headers: redactedHeaders(req),
      error,
      ...(notes.faults === undefined || notes.faults.length === 0 ? {} : { faults: notes.faults }),
      ...(notes.rateLimited === undefined ? {} : { rateLimited: notes.rateLimited }),
      ...(notes.texts === undefined ? {} : { texts: notes.texts }),
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
  selfUrl = `http://${host}:${address.port}`;

  return {
    url: selfUrl,
    port: address.port,
    stats,
    failNext: (count, code = 503) => faults.failNext(count, code),
    resetStats: () => {
      resetStats(stats);
      resetOperationStats(operations);
    },
    snapshot: () => adminSnapshot(admin),
    clock,
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

/** What the answer did besides answering, for the stats, the log and the way the answer is sent. */
interface RequestNotes {
  faults?: string[];
  texts?: string[];
  rateLimited?: LimitKind[];
  reset?: boolean;
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

/**
 * An injected connection reset: the status line, headers and half the body go out, then the socket
 * is destroyed, so the client sees a 200 whose body never completes. Returns what the log says.
 */
function sendThenReset(res: ServerResponse, body: unknown): string {
  const bytes = Buffer.from(JSON.stringify(body, null, 2));
  const sent = Math.floor(bytes.length / 2);
  res.writeHead(200, { "content-type": "application/json; charset=UTF-8", "content-length": bytes.length });
  res.write(bytes.subarray(0, sent), () => res.destroy());
  return `connection reset by an injected fault after ${sent} of ${bytes.length} body bytes`;
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
