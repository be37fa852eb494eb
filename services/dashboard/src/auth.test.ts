import { describe, expect, it } from "vitest";
import {
  authenticate,
  checkExposure,
  cookie,
  csrfProblem,
  parseCookies,
  sameSecret,
  sessionValue,
} from "./auth.ts";

const TOKEN = "a-very-long-dashboard-token";

describe("checkExposure", () => {
  it("needs a token, or --dev on loopback", () => {
    expect(() => checkExposure({ host: "0.0.0.0", token: undefined, dev: false })).toThrow(
      /needs a token: set TESSERA_DASHBOARD_TOKEN/,
    );
    expect(() => checkExposure({ host: "0.0.0.0", token: undefined, dev: true })).toThrow(/not "0.0.0.0"/);
    expect(() => checkExposure({ host: "127.0.0.1", token: undefined, dev: false })).toThrow(/needs a token/);
    expect(() => checkExposure({ host: "127.0.0.1", token: undefined, dev: true })).not.toThrow();
    expect(() => checkExposure({ host: "localhost", token: undefined, dev: true })).not.toThrow();
    expect(() => checkExposure({ host: "0.0.0.0", token: "short", dev: false })).toThrow(/at least 16/);
    expect(() => checkExposure({ host: "0.0.0.0", token: TOKEN, dev: false })).not.toThrow();
  });
});

describe("authenticate", () => {
  it("accepts the bearer token or the session cookie, nothing else", () => {
    expect(authenticate({ authorization: `Bearer ${TOKEN}` }, TOKEN)).toBe("bearer");
    expect(authenticate({ authorization: `Bearer ${TOKEN}x` }, TOKEN)).toBeUndefined();
    expect(authenticate({ authorization: `Basic ${TOKEN}` }, TOKEN)).toBeUndefined();
    expect(authenticate({ cookie: `a=b; tessera_session=${sessionValue(TOKEN)}` }, TOKEN)).toBe("cookie");
    // The raw token is not a session: cookies hold a derived value.
    expect(authenticate({ cookie: `tessera_session=${TOKEN}` }, TOKEN)).toBeUndefined();
    expect(authenticate({}, TOKEN)).toBeUndefined();
    expect(authenticate({}, undefined)).toBe("dev");
    expect(sessionValue(TOKEN)).not.toContain(TOKEN);
  });

  it("compares secrets of any length", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abc", "abcd")).toBe(false);
  });
});

describe("csrfProblem", () => {
  const same = { host: "dash.local:8790", origin: "http://dash.local:8790" };
  it("lets bearer requests through: browsers never send them on their own", () => {
    expect(csrfProblem({}, "bearer")).toBeUndefined();
  });

  it("wants the same origin and the double-submitted token for cookie sessions", () => {
    const ok = { ...same, cookie: "tessera_csrf=t0k3n", "x-csrf-token": "t0k3n" };
    expect(csrfProblem(ok, "cookie")).toBeUndefined();
    expect(csrfProblem({ ...ok, origin: "http://evil.example" }, "cookie")).toMatch(/cross-origin/);
    expect(csrfProblem({ ...ok, origin: undefined }, "cookie")).toMatch(/missing Origin/);
    expect(
      csrfProblem({ ...ok, origin: undefined, referer: "http://dash.local:8790/runs/x" }, "cookie"),
    ).toBeUndefined();
    expect(csrfProblem({ ...ok, "x-csrf-token": "other" }, "cookie")).toMatch(/CSRF token/);
    expect(csrfProblem({ ...same, "x-csrf-token": "t0k3n" }, "dev")).toMatch(/CSRF token/);
  });
});

describe("cookies", () => {
  it("parses and writes them", () => {
    expect(parseCookies("a=1; b=x%20y;junk; c=")).toEqual({ a: "1", b: "x y", c: "" });
    expect(cookie("s", "v", { httpOnly: true, secure: false })).toBe(
      "s=v; Path=/; SameSite=Strict; HttpOnly",
    );
  });
});
