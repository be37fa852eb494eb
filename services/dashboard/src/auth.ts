import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { UsageError } from "@tessera/core";

export const SESSION_COOKIE = "tessera_session";
export const CSRF_COOKIE = "tessera_csrf";
export const CSRF_HEADER = "x-csrf-token";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase());
}

/**
 * The dashboard shows prompts, locations and annotations, and can cancel runs: without a token
 * it starts only when bound to the loopback interface and explicitly asked to (`--dev`).
 */
export function checkExposure(options: { host: string; token: string | undefined; dev: boolean }): void {
  if (options.token !== undefined) {
    if (options.token.length < 16) {
      throw new UsageError(
        "TESSERA_DASHBOARD_TOKEN: use at least 16 characters (e.g. `openssl rand -hex 24`)",
      );
    }
    return;
  }
  if (!options.dev) {
    throw new UsageError(
      "the dashboard needs a token: set TESSERA_DASHBOARD_TOKEN (or, on your own machine only, --dev with --host 127.0.0.1)",
    );
  }
  if (!isLoopback(options.host)) {
    throw new UsageError(
      `--dev without TESSERA_DASHBOARD_TOKEN only binds to 127.0.0.1/localhost, not "${options.host}"`,
    );
  }
}

/** Compares secrets in constant time whatever their lengths. */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/** The session cookie's value: derived from the token, so the token itself never sits in a cookie. */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("tessera-dashboard-session-v1").digest("base64url");
}

export function newCsrfToken(): string {
  return randomBytes(24).toString("base64url");
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}

/** How a request proved who it is: a bearer token, the login cookie, or dev mode (no token configured). */
export type Credential = "bearer" | "cookie" | "dev";

export function authenticate(
  headers: IncomingHttpHeaders,
  token: string | undefined,
): Credential | undefined {
  if (token === undefined) return "dev";
  const auth = headers.authorization;
  if (auth !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(auth);
    return match && sameSecret(match[1]!.trim(), token) ? "bearer" : undefined;
  }
  const session = parseCookies(headers.cookie)[SESSION_COOKIE];
  return session !== undefined && sameSecret(session, sessionValue(token)) ? "cookie" : undefined;
}

/**
 * CSRF for state-changing requests. A bearer token is never sent by a browser on its own, so
 * it needs nothing more. A cookie (or dev mode) does: the request must come from this origin
 * (Origin, else Referer, naming the Host it was sent to) and carry the CSRF cookie's value in
 * the X-CSRF-Token header (double submit: another site can neither read the cookie nor set the
 * header). Returns the reason to refuse, or undefined.
 */
export function csrfProblem(headers: IncomingHttpHeaders, credential: Credential): string | undefined {
  if (credential === "bearer") return undefined;
  const host = headers.host;
  const origin = headers.origin ?? refererOrigin(headers.referer);
  if (host === undefined || origin === undefined) return "missing Origin";
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return "unparseable Origin";
  }
  if (originHost !== host) return `cross-origin request from ${origin}`;
  const cookie = parseCookies(headers.cookie)[CSRF_COOKIE];
  const header = headers[CSRF_HEADER];
  if (cookie === undefined || typeof header !== "string" || !sameSecret(cookie, header)) {
    return "missing or wrong CSRF token";
  }
  return undefined;
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

export function cookie(
  name: string,
  value: string,
  options: { httpOnly: boolean; secure: boolean; maxAgeS?: number },
): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    "Path=/",
    "SameSite=Strict",
    ...(options.httpOnly ? ["HttpOnly"] : []),
    ...(options.secure ? ["Secure"] : []),
    ...(options.maxAgeS === undefined ? [] : [`Max-Age=${options.maxAgeS}`]),
  ].join("; ");
}
