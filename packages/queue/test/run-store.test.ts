import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManifestLine, RunConfig } from "@tessera/core";
import { useTestPrefix } from "@tessera/testing";
import { PROGRESS_EVERY_MS, REDIS_CONTRACT_VERSION, RunNotFoundError, RunStore } from "../src/index.ts";

let env: Awaited<ReturnType<typeof useTestPrefix>>;
let store: RunStore;

beforeAll(async () => {
  env = await useTestPrefix("runstore");
  store = new RunStore(env.redis, env.prefix);
});
afterAll(async () => {
  await env.cleanup();
});

function config(runId: string): RunConfig {
  return {
    runId,
    task: "caption",
    model: "gemini-2.5-flash",
    prompt: "caption",
    source: "file:///src",
    out: "file:///out",
    createdAt: new Date().toISOString(),
    maxOutputTokens: 1024,
    detail: "standard",
    convert: "convert",
    transport: "auto",
    imagesPerRequest: 1,
    keepFiles: false,
    cache: true,
    taskOptions: "{}",
    configHash: "",
  };
}

function line(key: string, status: ManifestLine["status"], prompt = 0): ManifestLine {
  return {
    key,
    etag: "e",
    status,
    ...(prompt ? { tokens: { prompt, output: 5, image: 258 } } : {}),
    ...(status === "done" ? {} : { error: { class: "bad_image" as const, message: `${key} is broken` } }),
    at: new Date().toISOString(),
  };
}

describe("RunStore", () => {
  it("creates a run, indexes it and refuses a second run with the same id", async () => {
    await store.create(config("r1"));
    const run = await store.require("r1");
    expect(run).toMatchObject({
      runId: "r1",
      status: "scanning",
      scanned: false,
      images: 0,
      done: 0,
      cached: 0,
      v: REDIS_CONTRACT_VERSION,
    });
    expect(await store.list()).toContain("r1");
    await expect(store.create(config("r1"))).rejects.toThrow(/already exists/);
    await expect(store.require("nope")).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it("keeps boolean settings that are not their defaults", async () => {
    await store.create({ ...config("r1b"), keepFiles: true, cache: false });
    expect(await store.require("r1b")).toMatchObject({ keepFiles: true, cache: false });
  });

  it("counts cached images in done and in cached", async () => {
    await store.create(config("r1c"));
    await store.recordItem("r1c", { ...line("a.jpg", "done"), cached: true });
    await store.recordItem("r1c", line("b.jpg", "done", 300));
    expect(await store.require("r1c")).toMatchObject({ done: 2, cached: 1, tokens_prompt: 300 });
  });

  it("folds the bills of unusable answers into the unit's outcome, once, and forgets them", async () => {
    await store.create(config("r1u"));
    const bill = { prompt: 100, output: 7, image: 80, costMicros: 40 };
    expect(await store.addUnusable("r1u", "a.jpg", { ...bill, reason: "not_json: first" })).toBe(1);
    expect(await store.addUnusable("r1u", "a.jpg", { ...bill, reason: "not_json: second" })).toBe(2);
    expect(await store.unusable("r1u", ["a.jpg", "b.jpg"])).toEqual(
      new Map([
        [
          "a.jpg",
          { prompt: 200, output: 14, image: 160, costMicros: 80, answers: 2, reason: "not_json: second" },
        ],
      ]),
    );
    expect(await store.recordItem("r1u", line("a.jpg", "done", 300), { costMicros: 100 })).toBe("recorded");
    expect(await store.recordItem("r1u", line("b.jpg", "done", 300), { costMicros: 100 })).toBe("recorded");
    expect(await store.itemOutcome("r1u", "a.jpg")).toMatchObject({
      tokens: { prompt: 500, output: 19, image: 418 },
    });
    expect(await store.itemOutcome("r1u", "b.jpg")).toMatchObject({
      tokens: { prompt: 300, output: 5, image: 258 },
    });
    expect(await store.require("r1u")).toMatchObject({
      done: 2,
      tokens_prompt: 800,
      tokens_output: 24,
      tokens_image: 676,
      cost_micros: 280,
    });
    expect(await store.unusable("r1u", ["a.jpg"])).toEqual(new Map());
    // A duplicate outcome neither counts the bill again nor brings it back.
    expect(await store.recordItem("r1u", line("a.jpg", "failed", 300))).toBe("duplicate");
    expect(await store.require("r1u")).toMatchObject({ tokens_prompt: 800, cost_micros: 280 });
    // A line with no tokens of its own (a failure before any call) still carries the kept bill.
    await store.addUnusable("r1u", "c.jpg", { ...bill, reason: "empty_answer: empty" });
    await store.recordItem("r1u", line("c.jpg", "failed"));
    expect(await store.itemOutcome("r1u", "c.jpg")).toMatchObject({
      tokens: { prompt: 100, output: 7, image: 80 },
    });
    expect(await store.require("r1u")).toMatchObject({ tokens_prompt: 900, cost_micros: 320 });
  });

  it("counts each key once and completes the run exactly once", async () => {
    await store.create(config("r2"));
    expect(await store.recordItem("r2", line("a.jpg", "done", 300))).toBe("recorded");
    expect(await store.recordItem("r2", line("a.jpg", "done", 300))).toBe("duplicate");
    expect(await store.recordItem("r2", line("notes.txt", "skipped"))).toBe("recorded");
    expect(await store.markScanned("r2", 3)).toBe("running");
    expect(await store.recordItem("r2", line("b.jpg", "failed"))).toBe("recorded");
    expect(await store.recordItem("r2", line("c.jpg", "blocked"))).toBe("completed-run");
    expect(await store.recordItem("r2", line("c.jpg", "done"))).toBe("duplicate");
    const run = await store.require("r2");
    expect(run).toMatchObject({
      status: "finalizing",
      scanned: true,
      objects: 4,
      images: 3,
      done: 1,
      failed: 1,
      blocked: 1,
      skipped: 1,
      tokens_prompt: 300,
      tokens_output: 5,
      tokens_image: 258,
    });
    const items = [];
    for await (const item of store.items("r2")) items.push(item.key);
    expect(items.sort()).toEqual(["a.jpg", "b.jpg", "c.jpg", "notes.txt"]);
    expect((await store.itemOutcome("r2", "b.jpg"))?.error?.message).toBe("b.jpg is broken");
    const events = await env.redis.xrange(store.keys.events("r2"), "-", "+");
    const flat = events.map(([, fields]) => fields.join(" "));
    expect(flat.some((e) => e.includes("status finalizing"))).toBe(true);
    expect(flat.some((e) => e.includes("b.jpg is broken"))).toBe(true);
  });

  it("writes a progress entry with the counters at most once per PROGRESS_EVERY_MS of outcome time", async () => {
    await store.create(config("rp"));
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 4, 12) + ms).toISOString();
    const outcome = (key: string, ms: number) =>
      store.recordItem("rp", { ...line(key, "done", 10), at: at(ms) });
    await outcome("a.png", 0);
    await outcome("b.png", PROGRESS_EVERY_MS / 2);
    await outcome("c.png", PROGRESS_EVERY_MS);
    await outcome("d.png", PROGRESS_EVERY_MS + 1);
    const progress = (await env.redis.xrange(store.keys.events("rp"), "-", "+"))
      .map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))))
      .filter((fields) => fields.type === "progress");
    // a (the first) and c (a full interval later): the counters as each of them left them.
    expect(progress).toEqual([
      expect.objectContaining({ done: "1", tokens_prompt: "10", at: at(0) }),
      expect.objectContaining({ done: "3", tokens_prompt: "30", at: at(PROGRESS_EVERY_MS) }),
    ]);
  });

  it("completes at scan time when every image already has an outcome (or there are none)", async () => {
    await store.create(config("r3"));
    expect(await store.markScanned("r3", 0)).toBe("completed-run");
    await store.create(config("r4"));
    await store.recordItem("r4", line("x.png", "done", 10));
    expect(await store.markScanned("r4", 1)).toBe("completed-run");
    await expect(store.markScanned("r4", 1)).rejects.toThrow(/not scanning/);
  });

  it("holds budget reservations, settles them to usage, and counts budget skips as settled images", async () => {
    await store.create({ ...config("r5"), budgetMaxTokens: 1_000, budgetMaxCostMicros: 500 });
    expect(await store.reserveBudget("r5", 600, 100)).toBe(true);
    expect(await store.reserveBudget("r5", 600, 100)).toBe(false); // tokens would pass 1,000
    await store.settleBudget("r5", { tokens: 600, costMicros: 100 }, { tokens: 250, costMicros: 40 });
    expect(await store.reserveBudget("r5", 600, 100)).toBe(true);
    expect(await store.reserveBudget("r5", 10, 400)).toBe(false); // cost would pass 500
    expect(await store.require("r5")).toMatchObject({ budget_tokens: 850, budget_cost_micros: 140 });

    await store.recordItem("r5", line("a.png", "done", 250), { costMicros: 40 });
    await store.markScanned("r5", 2);
    const skip: ManifestLine = {
      ...line("b.png", "skipped"),
      error: { class: "budget", message: "over budget" },
    };
    expect(await store.recordItem("r5", skip)).toBe("completed-run");
    expect(await store.require("r5")).toMatchObject({
      objects: 2,
      images: 2,
      skipped: 1,
      budget_skipped: 1,
      cost_micros: 40,
    });

    await store.create(config("r6"));
    expect(await store.reserveBudget("r6", 1e9, 1e9)).toBe(true); // no budget: always covered
  });

  it("refuses outcomes for unknown runs", async () => {
    await expect(store.recordItem("ghost", line("a", "done"))).rejects.toBeInstanceOf(RunNotFoundError);
  });
});
