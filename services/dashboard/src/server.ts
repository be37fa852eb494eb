import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, UsageError, type Logger } from "@tessera/core";
import { RunNotFoundError, ScheduleNotFoundError } from "@tessera/queue";
import {
  authenticate,
  checkExposure,
  cookie,
  CSRF_COOKIE,
  csrfProblem,
  newCsrfToken,
  parseCookies,
  sameSecret,
  SESSION_COOKIE,
  sessionValue,
  type Credential,
} from "./auth.ts";
import { BULL_BOARD_PATH, bullBoardHandler } from "./bull-board.ts";
import { DashboardData, isNotable, type DashboardDeps } from "./data.ts";
import { fleetMetrics } from "./metrics.ts";
import { streamUpdates } from "./sse.ts";
import { loginPage } from "./login-page.ts";

export interface DashboardOptions {
  host: string;
  port: number;
  /** TESSERA_DASHBOARD_TOKEN; undefined only with `dev` on a loopback host. */
  token: string | undefined;
  dev: boolean;
  /** Pause, resume, cancel, retry: off = read-only. */
  actions: boolean;
}

export interface RunningDashboard {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const PUBLIC = new URL("../public/", import.meta.url);
const STATIC: Record<string, string> = {
  "/static/app.js": "text/javascript; charset=utf-8",
  "/static/app.css": "text/css; charset=utf-8",
};
const PAGE_SECURITY = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, limit = 4096): Promise<string> {
  let body = "";
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > limit) throw new HttpError(413, "request body too large");
  }
  return body;
}

/**
 * The dashboard: a page (plain HTML, CSS and JS from ../public), its JSON API, live updates over
 * SSE, Prometheus /metrics and bull-board under /queues. Everything but /healthz and the login
 * form needs the token (Bearer header, or the HttpOnly cookie the login form sets); actions are
 * POSTs, allowed only when enabled, with CSRF checks for cookie sessions. The token is never
 * logged or echoed.
 */
export async function startDashboard(
  deps: DashboardDeps,
  options: DashboardOptions,
): Promise<RunningDashboard> {
  checkExposure(options);
  const log: Logger = deps.log.child({ component: "dashboard" });
  const data = new DashboardData(deps);
  const metrics = fleetMetrics(data);
  const bullBoard = bullBoardHandler(deps.producer, { readOnly: !options.actions });
  const secure = false;

  const page = async (res: ServerResponse, req: IncomingMessage) => {
    const html = await readFile(new URL("index.html", PUBLIC), "utf8");
    const headers: Record<string, string | string[]> = {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      ...PAGE_SECURITY,
    };
    // The CSRF cookie is what the page's script echoes back in X-CSRF-Token.
    if (parseCookies(req.headers.cookie)[CSRF_COOKIE] === undefined) {
      headers["set-cookie"] = cookie(CSRF_COOKIE, newCsrfToken(), { httpOnly: false, secure });
    }
    res.writeHead(200, headers).end(html);
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...PAGE_SECURITY }).end(loginPage());
      return;
    }
    // Login CSRF: only this origin's form may log a browser in.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null" && new URL(origin).host !== req.headers.host) {
      throw new HttpError(403, "cross-origin login refused");
    }
    const token = new URLSearchParams(await readBody(req)).get("token") ?? "";
    if (options.token === undefined || !sameSecret(token, options.token)) {
      await new Promise((r) => setTimeout(r, 500)); // slows down guessing
      res
        .writeHead(401, { "content-type": "text/html; charset=utf-8", ...PAGE_SECURITY })
        .end(loginPage("That token is not the dashboard's."));
      return;
    }
    res
      .writeHead(303, {
        location: "/",
        "set-cookie": [
          cookie(SESSION_COOKIE, sessionValue(options.token), { httpOnly: true, secure, maxAgeS: 12 * 3600 }),
          cookie(CSRF_COOKIE, newCsrfToken(), { httpOnly: false, secure }),
        ],
      })
      .end();
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL, credential: Credential) => {
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent); // ["api", ...]
    const [, kind, id, sub] = parts;
    if (req.method === "POST") {
      if (!options.actions)
        throw new HttpError(
          403,
          "the dashboard is read-only (TESSERA_DASHBOARD_ACTIONS=true enables actions)",
        );
      const problem = csrfProblem(req.headers, credential);
      if (problem !== undefined) throw new HttpError(403, `refused: ${problem}`);
      if (kind === "runs" && id !== undefined) {
        log.info("dashboard action", { action: sub, runId: id });
        if (sub === "cancel") return json(res, 200, { runId: id, result: await data.cancel(id) });
        if (sub === "pause" || sub === "resume") {
          await data.pause(id, sub === "pause");
          return json(res, 200, { runId: id, paused: sub === "pause" });
        }
        if (sub === "retry") return json(res, 200, { runId: id, retried: await data.retry(id) });
      }
      if (kind === "schedules" && id !== undefined && (sub === "pause" || sub === "resume")) {
        log.info("dashboard action", { action: sub, scheduleId: id });
        await data.pauseSchedule(id, sub === "pause");
        return json(res, 200, { id, paused: sub === "pause" });
      }
      throw new HttpError(404, "no such action");
    }
    if (req.method !== "GET") throw new HttpError(405, "method not allowed");
    if (kind === "session") {
      return json(res, 200, { actions: options.actions, dev: options.token === undefined });
    }
    if (kind === "stream") return streamUpdates(data, req, res, url.searchParams.get("run") ?? undefined);
    if (kind === "runs" && id === undefined)
      return json(res, 200, await data.listRuns(Number(url.searchParams.get("limit") ?? 50)));
    if (kind === "runs" && id !== undefined) {
      if (sub === undefined) {
        const run = await data.run(id);
        if (!run) throw new RunNotFoundError(id);
        return json(res, 200, run);
      }
      if (sub === "digest") return json(res, 200, await data.digest(id));
      if (sub === "events") {
        // Progress ticks (up to one a second) would crowd out what people look for.
        const events = await data.events(id, { count: 1_000 });
        return json(res, 200, events.filter(isNotable).slice(0, 100));
      }
      if (sub === "preview") {
        const png = await data.preview(id, url.searchParams.get("key") ?? "");
        if (!png) throw new HttpError(404, "no preview for that image");
        res.writeHead(200, { "content-type": "image/png", "cache-control": "private, max-age=300" }).end(png);
        return;
      }
    }
    if (kind === "schedules" && id === undefined) return json(res, 200, await data.listSchedules());
    if (kind === "schedules" && id !== undefined) {
      const schedule = await data.schedule(id);
      if (!schedule) throw new ScheduleNotFoundError(id);
      return json(res, 200, schedule);
    }
    if (kind === "queues") return json(res, 200, await data.queueDepths());
    throw new HttpError(404, "not found");
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    if (path === "/healthz") return json(res, 200, { ok: true });
    if (path === "/login") return login(req, res);
    if (path in STATIC && req.method === "GET") {
      const body = await readFile(new URL(path.slice("/static/".length), PUBLIC));
      res.writeHead(200, { "content-type": STATIC[path]!, "cache-control": "no-cache" }).end(body);
      return;
    }
    const credential = authenticate(req.headers, options.token);
    if (credential === undefined) {
      if (
        path.startsWith("/api/") ||
        path === "/metrics" ||
        req.headers.accept?.includes("text/html") !== true
      ) {
        res.writeHead(401, {
          "content-type": "application/json",
          "www-authenticate": 'Bearer realm="tessera"',
        });
        res.end(
          JSON.stringify({ error: "a token is required (Authorization: Bearer, or log in at /login)" }),
        );
      } else {
        res.writeHead(303, { location: "/login" }).end();
      }
      return;
    }
    if (path === "/logout" && req.method === "POST") {
      res
        .writeHead(303, {
          location: "/login",
          "set-cookie": cookie(SESSION_COOKIE, "", { httpOnly: true, secure, maxAgeS: 0 }),
        })
        .end();
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": metrics.contentType }).end(await metrics.metrics());
      return;
    }
    if (path === BULL_BOARD_PATH || path.startsWith(`${BULL_BOARD_PATH}/`)) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        if (!options.actions) throw new HttpError(403, "the dashboard is read-only");
        // bull-board's own requests cannot carry our CSRF header: same origin is required.
        const origin = req.headers.origin;
        if (credential !== "bearer" && (origin === undefined || new URL(origin).host !== req.headers.host)) {
          throw new HttpError(403, "refused: cross-origin or missing Origin");
        }
      }
      bullBoard(req, res);
      return;
    }
    if (path.startsWith("/api/")) return api(req, res, url, credential);
    if (req.method === "GET" && (path === "/" || path.startsWith("/runs/") || path === "/schedules")) {
      return page(res, req);
    }
    throw new HttpError(404, "not found");
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    handle(req, res)
      .catch((err: unknown) => {
        const status =
          err instanceof HttpError
            ? err.status
            : err instanceof RunNotFoundError || err instanceof ScheduleNotFoundError
              ? 404
              : err instanceof UsageError
                ? 409
                : 500;
        if (status === 500)
          log.error("dashboard request failed", { path: req.url?.split("?")[0], error: errorMessage(err) });
        if (!res.headersSent) json(res, status, { error: errorMessage(err) });
        else res.end();
      })
      .finally(() => {
        // Paths only: no query strings (preview keys) and never a header (the token).
        log.debug("request", {
          method: req.method,
          path: req.url?.split("?")[0],
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`;
  log.info("dashboard listening", {
    url,
    actions: options.actions,
    auth: options.token === undefined ? "dev" : "token",
  });
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
