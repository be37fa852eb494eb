import { describe, expect, it } from "vitest";
import { bothHooks, requestLogger, withoutQueryStrings } from "./admin-log.ts";
import type { EmulatorRequestEvent } from "./options.ts";

const EVENT: EmulatorRequestEvent = {
  method: "POST",
  path: "/v1/models/gemini-2.5-flash:generateContent?key=<redacted>",
  route: "generateContent",
  apiVersion: "v1",
  model: "gemini-2.5-flash",
  status: 503,
  durationMs: 12.345,
  headers: { "x-goog-api-key": "<redacted>", "x-secret-looking": "sk-123" },
  error: "Cannot fetch https://bucket.s3.example/a.png?X-Amz-Signature=abc&X-Amz-Credential=k (403)",
  faults: ["503"],
};

describe("requestLogger", () => {
  it("is off unless asked for", () => {
    expect(requestLogger(undefined)).toBeUndefined();
    expect(requestLogger(false)).toBeUndefined();
  });

  it("writes one JSON line per request, without headers and without URL query strings", () => {
    const lines: string[] = [];
    requestLogger((line) => lines.push(line))!(EVENT);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: "warn",
      msg: "request",
      service: "gemini-emulator",
      method: "POST",
      route: "generateContent",
      model: "gemini-2.5-flash",
      status: 503,
      durationMs: 12.3,
      faults: ["503"],
      error: "Cannot fetch https://bucket.s3.example/a.png?<redacted> (403)",
    });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(lines[0]).not.toContain("sk-123");
    expect(lines[0]).not.toContain("Signature");
  });

  it("logs successful requests at info, with the limits that refused a 429", () => {
    const lines: string[] = [];
    const log = requestLogger((line) => lines.push(line))!;
    log({ ...EVENT, status: 200, error: undefined, faults: [] });
    log({ ...EVENT, status: 429, error: "quota", faults: undefined, rateLimited: ["rpm", "tpm"] });
    const [ok, limited] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(ok).toMatchObject({ level: "info", status: 200 });
    expect(ok).not.toHaveProperty("faults");
    expect(ok).not.toHaveProperty("error");
    expect(limited).toMatchObject({ level: "info", rateLimited: ["rpm", "tpm"] });
  });
});

describe("withoutQueryStrings", () => {
  it("keeps scheme, host and path and drops query and fragment", () => {
    expect(withoutQueryStrings("see http://h:9/p/q?x=1#frag and https://a.b/c.")).toBe(
      "see http://h:9/p/q?<redacted> and https://a.b/c.",
    );
  });
});

describe("bothHooks", () => {
  it("calls both hooks, or the one present", () => {
    const seen: string[] = [];
    bothHooks(
      () => seen.push("a"),
      () => seen.push("b"),
    )!(EVENT);
    expect(seen).toEqual(["a", "b"]);
    expect(bothHooks(undefined, undefined)).toBeUndefined();
  });
});
