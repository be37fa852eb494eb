import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@tessera/core";
import { startDashboard } from "../src/index.ts";
import { startStack, TOKEN, type Stack } from "./setup.ts";

let stack: Stack;
let runId: string;
const bearer = { authorization: `Bearer ${TOKEN}` };

async function get(path: string, headers: Record<string, string> = bearer) {
  return fetch(`${stack.dashboard.url}${path}`, { headers, redirect: "manual" });
}

async function post(path: string, headers: Record<string, string>) {
  return fetch(`${stack.dashboard.url}${path}`, { method: "POST", headers, redirect: "manual" });
}

beforeAll(async () => {
  stack = await startStack("dashboard");
  await stack.startWorker();
  runId = await stack.startDetectRun(4, "set-a", undefined, true);
  await stack.until(runId, ["completed"]);
});

afterAll(async () => {
  await stack?.close();
});

describe("dashboard access", () => {
  it("refuses every page, API and /metrics without the token", async () => {
    for (const path of ["/api/runs", `/api/runs/${runId}`, "/metrics", "/queues/", "/api/stream"]) {
      const res = await get(path, {});
      expect(res.status, path).toBe(401);
      expect(await res.text()).not.toContain(TOKEN);
    }
    expect((await get("/api/runs", { authorization: "Bearer wrong-token-wrong-token" })).status).toBe(401);
    // A browser is sent to the login form.
    const page = await get("/", { accept: "text/html" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login");
    expect((await get("/healthz", {})).status).toBe(200);
  });

  it("will not start without a token unless on loopback with --dev", async () => {
    const deps = {
      redis: {} as never,
      prefix: "unused",
      producer: stack.producer,
      storage: () => {
        throw new Error("unused");
      },
      log: createLogger("silent"),
      now: () => new Date(),
    };
    await expect(
      startDashboard(deps, { host: "0.0.0.0", port: 0, token: undefined, dev: true, actions: false }),
    ).rejects.toThrow(/only binds to 127.0.0.1/);
    await expect(
      startDashboard(deps, { host: "127.0.0.1", port: 0, token: undefined, dev: false, actions: false }),
    ).rejects.toThrow(/needs a token/);
  });

  it("logs in with a form that sets an HttpOnly cookie, and checks CSRF on actions", async () => {
    const wrong = await fetch(`${stack.dashboard.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=nope",
      redirect: "manual",
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${stack.dashboard.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${encodeURIComponent(TOKEN)}`,
      redirect: "manual",
    });
    expect(ok.status).toBe(303);
    const cookies = ok.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith("tessera_session="))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).not.toContain(TOKEN);
    const csrf = cookies
      .find((c) => c.startsWith("tessera_csrf="))!
      .split(";")[0]!
      .split("=")[1]!;
    const cookie = `${session.split(";")[0]}; tessera_csrf=${csrf}`;

    expect((await get("/api/runs", { cookie })).status).toBe(200);
    const origin = stack.dashboard.url;
    // A cookie alone (what a cross-site form would carry) is refused.
    expect((await post(`/api/runs/${runId}/pause`, { cookie })).status).toBe(403);
    expect(
      (
        await post(`/api/runs/${runId}/pause`, {
          cookie,
          origin: "http://evil.example",
          "x-csrf-token": csrf,
        })
      ).status,
    ).toBe(403);
    expect((await post(`/api/runs/${runId}/pause`, { cookie, origin, "x-csrf-token": "guess" })).status).toBe(
      403,
    );
    // An ended run cannot be paused: the action ran and said why.
    const pause = await post(`/api/runs/${runId}/pause`, { cookie, origin, "x-csrf-token": csrf });
    expect(pause.status).toBe(409);
    expect(((await pause.json()) as { error: string }).error).toMatch(/only a running run can be paused/);
    const cancel = await post(`/api/runs/${runId}/cancel`, { cookie, origin, "x-csrf-token": csrf });
    expect(await cancel.json()).toEqual({ runId, result: "already-ended" });
  });
});

describe("dashboard API", () => {
  it("lists runs and shows one with its figures, errors, events and previews", async () => {
    const runs = (await (await get("/api/runs")).json()) as { runId: string; progress: number }[];
    expect(runs.find((r) => r.runId === runId)).toMatchObject({ progress: 1 });
    const run = (await (await get(`/api/runs/${runId}`)).json()) as Record<string, unknown>;
    expect(run).toMatchObject({ runId, status: "completed", task: "detect", previews: true, ended: true });
    expect(run.counts).toMatchObject({ images: 5, done: 4, failed: 1, skipped: 1 });
    expect((run.tokens as { prompt: number }).prompt).toBeGreaterThan(0);
    expect((run.estimate as { costUsd: number }).costUsd).toBeGreaterThan(0);
    expect(run.budget).toMatchObject({ maxCostUsd: 5 });

    const digest = (await (await get(`/api/runs/${runId}/digest`)).json()) as {
      doneKeys: string[];
      throughput: { points: { done: number }[] };
      errors: unknown[];
    };
    expect(digest.doneKeys).toEqual(["img-00.png", "img-01.png", "img-02.png", "img-03.png"]);
    expect(digest.throughput.points.reduce((n, p) => n + p.done, 0)).toBe(4);
    expect(digest.errors).toEqual([
      {
        class: "bad_image",
        count: 1,
        examples: [{ key: "torn.png", message: expect.any(String) as string }],
      },
    ]);

    const events = (await (await get(`/api/runs/${runId}/events`)).json()) as {
      fields: { status?: string };
    }[];
    expect(events.map((e) => e.fields.status)).toContain("completed");

    const png = await get(`/api/runs/${runId}/preview?key=img-01.png`);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");
    // Only images the run annotated: no reading arbitrary keys of the output.
    expect((await get(`/api/runs/${runId}/preview?key=../../etc/passwd`)).status).toBe(404);
    expect((await get(`/api/runs/${runId}/preview?key=readme.txt`)).status).toBe(404);
    expect((await get(`/api/runs/nope`)).status).toBe(404);
  });

  it("serves Prometheus metrics from Redis and bull-board under /queues", async () => {
    const metrics = await (await get("/metrics")).text();
    expect(metrics).toContain(`tessera_run_images{run="${runId}",outcome="done"} 4`);
    expect(metrics).toContain(`tessera_run_budget_left{run="${runId}",unit="usd"}`);
    expect(metrics).toMatch(/tessera_queue_jobs\{queue="annotate",state="completed"\} \d+/);
    expect(metrics).toMatch(/tessera_run_tokens\{run="[^"]+",direction="in"\} [1-9]/);
    const board = await get("/queues/");
    expect(board.status).toBe(200);
    expect(await board.text()).toMatch(/<html/i);
    const queues = await get("/queues/api/queues?activeQueue=annotate");
    expect(queues.status).toBe(200);
    expect(JSON.stringify(await queues.json())).toContain("annotate");
  });

  it("streams run updates over SSE", async () => {
    const controller = new AbortController();
    const res = await fetch(`${stack.dashboard.url}/api/stream`, {
      headers: bearer,
      signal: controller.signal,
    });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk);
      if (text.includes("event: runs")) break;
    }
    controller.abort();
    expect(text).toContain(runId);
  });

  it("pauses a run: workers hold its images until it is resumed", async () => {
    const csrfless = { ...bearer };
    // Paused while it scans, before any image is queued.
    const paused = await stack.startDetectRun(3, "set-b", async (id) => {
      expect((await post(`/api/runs/${id}/pause`, csrfless)).status).toBe(200);
    });
    await stack.until(paused, ["running"]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await stack.runs.require(paused)).done).toBe(0);
    expect((await post(`/api/runs/${paused}/resume`, csrfless)).status).toBe(200);
    const done = await stack.until(paused, ["completed"], 45_000);
    expect(done.done).toBe(3);
  });
});

describe("pause and cancel", () => {
  it("a cancel wins over a pause: the paused run's images settle as cancelled", async () => {
    const runId = await stack.startDetectRun(2, "set-c", async (id) => {
      expect((await post(`/api/runs/${id}/pause`, bearer)).status).toBe(200);
    });
    await stack.until(runId, ["running"]);
    expect((await post(`/api/runs/${runId}/cancel`, bearer)).status).toBe(200);
    const run = await stack.until(runId, ["cancelled"], 45_000);
    expect(run).toMatchObject({ done: 0, cancelled: 2 });
  });
});
