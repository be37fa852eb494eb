import { describe, expect, it } from "vitest";
import { base64Length } from "@tessera/gemini";
import { packRequests, RequestPacker, type PackLimits, type PlanImage } from "./plan.ts";

const MB = 1024 * 1024;
const limits: PackLimits = {
  maxImages: 3_600,
  maxInlineBytes: 20 * MB,
  maxInputTokens: 1_048_576,
  promptTokens: 50,
};
const images = (n: number, bytes: number, tokens = 258): PlanImage[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, bytes, tokens }));

describe("packRequests", () => {
  it("respects the images-per-request limit and keeps order", () => {
    const plan = packRequests(images(10, 1_000), { ...limits, maxImages: 4 });
    expect(plan.requests.map((r) => r.length)).toEqual([4, 4, 2]);
    expect(plan.requests.flat().map((i) => i.key)).toEqual(images(10, 1).map((i) => i.key));
    expect(plan.rejected).toEqual([]);
  });

  it("keeps every inline request under the size limit after base64", () => {
    const plan = packRequests(images(10, 3 * MB), limits);
    for (const request of plan.requests) {
      const size = request.reduce((sum, i) => sum + base64Length(i.bytes), 0);
      expect(size).toBeLessThan(20 * MB);
    }
    // 3 MB becomes 4 MB in base64: four fit under 20 MB with the overhead, five do not.
    expect(plan.requests.map((r) => r.length)).toEqual([4, 4, 2]);
  });

  it("keeps every request under the input token limit", () => {
    const plan = packRequests(images(5, 10, 400), { ...limits, maxInputTokens: 1_000 });
    expect(plan.requests.map((r) => r.length)).toEqual([2, 2, 1]);
  });

  it("sends images too big for inline through the Files API, or rejects them when inline is forced", () => {
    const big = [{ key: "huge", bytes: 30 * MB, tokens: 258 }];
    expect(packRequests(big, limits).requests[0]?.[0]?.transport).toBe("files");
    const forced = packRequests(big, limits, "inline");
    expect(forced.requests).toEqual([]);
    expect(forced.rejected[0]?.reason).toMatch(/too large to send inline/);
  });

  it("rejects an image whose tokens alone exceed the input limit", () => {
    const plan = packRequests([{ key: "x", bytes: 1, tokens: 2_000 }], { ...limits, maxInputTokens: 1_000 });
    expect(plan.rejected[0]?.reason).toMatch(/exceed the 1000-token input limit/);
  });
});

describe("RequestPacker", () => {
  it("closes a request when the next image would not fit, and flushes the last", () => {
    const packer = new RequestPacker({ ...limits, maxImages: 2 });
    const [a, b, c] = images(3, 10);
    expect(packer.add(a!)).toEqual({ kind: "added" });
    expect(packer.add(b!)).toEqual({ kind: "added" });
    const step = packer.add(c!);
    expect(step.kind === "added" && step.closed?.map((i) => i.key)).toEqual(["k0", "k1"]);
    expect(packer.flush()?.map((i) => i.key)).toEqual(["k2"]);
    expect(packer.flush()).toBeUndefined();
  });

  it("keeps what the caller attached to each image", () => {
    const packer = new RequestPacker<PlanImage & { ref: string }>({ ...limits, maxImages: 4 });
    packer.add({ key: "a", bytes: 1, tokens: 258, ref: "A" });
    expect(packer.flush()?.[0]).toMatchObject({ key: "a", ref: "A", transport: "inline" });
  });
});
