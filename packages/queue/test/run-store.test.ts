import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManifestLine, RunConfig } from "@tessera/core";
import { useTestPrefix } from "@tessera/testing";
import { RunNotFoundError, RunStore } from "../src/index.ts";

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
    expect(run).toMatchObject({ runId: "r1", status: "scanning", scanned: false, images: 0, done: 0, v: 1 });
    expect(await store.list()).toContain("r1");
    await expect(store.create(config("r1"))).rejects.toThrow(/already exists/);
    await expect(store.require("nope")).rejects.toBeInstanceOf(RunNotFoundError);
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

  it("completes at scan time when every image already has an outcome (or there are none)", async () => {
    await store.create(config("r3"));
    expect(await store.markScanned("r3", 0)).toBe("completed-run");
    await store.create(config("r4"));
    await store.recordItem("r4", line("x.png", "done", 10));
    expect(await store.markScanned("r4", 1)).toBe("completed-run");
    await expect(store.markScanned("r4", 1)).rejects.toThrow(/not scanning/);
  });

  it("refuses outcomes for unknown runs", async () => {
    await expect(store.recordItem("ghost", line("a", "done"))).rejects.toBeInstanceOf(RunNotFoundError);
  });
});
