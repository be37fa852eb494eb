import { describe, expect, it } from "vitest";
import { InvalidPayloadError, jobCatalog, jobsOfQueue, parsePayload, QUEUE_NAMES } from "./catalog.ts";
import { createConsumer, MissingHandlerError } from "./consumer.ts";
import type { Redis } from "ioredis";

describe("job catalog", () => {
  it("routes every job to a queue and retries each a bounded number of times", () => {
    expect(QUEUE_NAMES.sort()).toEqual(["annotate", "runs", "schedules"]);
    expect(jobsOfQueue("annotate")).toEqual(["annotate"]);
    expect(jobsOfQueue("runs")).toEqual(["finalize-run"]);
    expect(jobsOfQueue("schedules")).toEqual(["scheduled-run"]);
    for (const spec of Object.values(jobCatalog)) expect(spec.options.attempts).toBeGreaterThan(1);
  });

  it("accepts references and rejects anything else with the field named", () => {
    const payload = { runId: "r-1", key: "a/b.jpg", etag: "abc", size: 10, mime: "image/jpeg" };
    expect(parsePayload("annotate", payload)).toEqual(payload);
    expect(() => parsePayload("annotate", { ...payload, size: -1 })).toThrow(InvalidPayloadError);
    expect(() => parsePayload("annotate", { ...payload, runId: "has:colon" })).toThrow(/runId/);
    expect(() => parsePayload("finalize-run", {})).toThrow(/invalid finalize-run payload/);
    expect(parsePayload("scheduled-run", { scheduleId: "nightly-1" })).toEqual({ scheduleId: "nightly-1" });
    expect(() => parsePayload("scheduled-run", { scheduleId: "Bad:Id" })).toThrow(/scheduleId/);
  });

  it("keeps payloads small: a job carries keys, never bytes", () => {
    const payload = parsePayload("annotate", {
      runId: "r",
      key: "k".repeat(200),
      etag: "e".repeat(34),
      size: 1,
      mime: "image/png",
    });
    expect(JSON.stringify(payload).length).toBeLessThan(400);
  });
});

describe("createConsumer", () => {
  it("refuses to start without a handler for every job of its queue", () => {
    const connection = {} as Redis; // never touched: the check runs before any connection
    expect(() =>
      createConsumer({ connection, prefix: "t", queue: "runs", handlers: {}, concurrency: 1 }),
    ).toThrow(MissingHandlerError);
    expect(() =>
      createConsumer({
        connection,
        prefix: "t",
        queue: "annotate",
        handlers: { "finalize-run": async () => {} },
        concurrency: 1,
      }),
    ).toThrow(/no handler for job\(s\) annotate/);
  });
});
