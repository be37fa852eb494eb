import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestPrefix } from "@tessera/testing";
import { ImageLeases } from "../src/index.ts";

let env: Awaited<ReturnType<typeof useTestPrefix>>;

beforeAll(async () => {
  env = await useTestPrefix("lease");
});
afterAll(async () => {
  await env.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("ImageLeases (real Redis)", () => {
  it("one holder per image of a run; others learn how long to wait", async () => {
    const leases = new ImageLeases(env.redis, env.prefix, 5_000);
    const first = await leases.acquire("r1", "a.png");
    expect(first.ok).toBe(true);
    const second = await leases.acquire("r1", "a.png");
    expect(second).toMatchObject({ ok: false });
    if (!second.ok) expect(second.heldForMs).toBeGreaterThan(4_000);
    // Other images and other runs are independent.
    expect((await leases.acquire("r1", "b.png")).ok).toBe(true);
    expect((await leases.acquire("r2", "a.png")).ok).toBe(true);
    if (first.ok) await first.lease.release();
    expect((await leases.acquire("r1", "a.png")).ok).toBe(true);
  });

  it("is renewed while held, well past its TTL, and lapses once the holder stops renewing", async () => {
    const leases = new ImageLeases(env.redis, env.prefix, 300);
    const held = await leases.acquire("r3", "slow.png");
    if (!held.ok) throw new Error("not acquired");
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      expect((await leases.acquire("r3", "slow.png")).ok).toBe(false);
    }
    await held.lease.release();
    const again = await leases.acquire("r3", "slow.png");
    expect(again.ok).toBe(true);

    // A holder that died: its key is left with a TTL and nobody renews it.
    await env.redis.set(`${env.prefix}:lease:r3:dead.png`, "someone-else", "PX", 300);
    expect((await leases.acquire("r3", "dead.png")).ok).toBe(false);
    await sleep(400);
    expect((await leases.acquire("r3", "dead.png")).ok).toBe(true);
  });

  it("release never deletes a lease someone else took over", async () => {
    const leases = new ImageLeases(env.redis, env.prefix, 5_000);
    const mine = await leases.acquire("r4", "x.png");
    if (!mine.ok) throw new Error("not acquired");
    // The lease lapsed (e.g. a long pause) and another worker took it.
    await env.redis.set(`${env.prefix}:lease:r4:x.png`, "other-token", "PX", 5_000);
    await mine.lease.release();
    expect(await env.redis.get(`${env.prefix}:lease:r4:x.png`)).toBe("other-token");
  });
});
