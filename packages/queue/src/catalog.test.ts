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
    const image = { key: "a/b.jpg", etag: "abc", size: 10, mime: "image/jpeg" };
    const payload = { runId: "r-1", images: [image] };
    expect(parsePayload("annotate", payload)).toEqual(payload);
    expect(() => parsePayload("annotate", { ...payload, images: [{ ...image, size: -1 }] })).toThrow(
      InvalidPayloadError,
    );
    expect(() => parsePayload("annotate", { ...payload, images: [] })).toThrow(/images/);
    expect(() => parsePayload("annotate", { ...payload, runId: "has:colon" })).toThrow(/runId/);
    expect(() =>
      parsePayload("annotate", { ...payload, images: [{ ...image, bytes: "AAAA" }] }),
    ).not.toThrow();
    expect(parsePayload("annotate", { ...payload, images: [{ ...image, bytes: "AAAA" }] })).toEqual(payload);
    expect(() => parsePayload("finalize-run", {})).toThrow(/invalid finalize-run payload/);
    expect(parsePayload("scheduled-run", { scheduleId: "nightly-1" })).toEqual({ scheduleId: "nightly-1" });
    expect(() => parsePayload("scheduled-run", { scheduleId: "Bad:Id" })).toThrow(/scheduleId/);
  });

  it("keeps payloads small: a job carries keys, never bytes, even with many images", () => {
    const image = {
      key: "k".repeat(200),
      etag: "e".repeat(34),
      size: 1,
      mime: "image/png",
      width: 9,
      height: 9,
    };
    const one = parsePayload("annotate", { runId: "r", images: [image] });
    expect(JSON.stringify(one).length).toBeLessThan(400);
    const many = parsePayload("annotate", { runId: "r", images: Array.from({ length: 100 }, () => image) });
    expect(JSON.stringify(many).length).toBeLessThan(100 * 320);
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
