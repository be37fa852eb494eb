import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/core";
import { HeaderBudgetError, HeaderReader, bufferReader, type RangeReader } from "./header-reader.ts";

const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));

function recording(bytes: Buffer): { read: RangeReader; calls: [number, number][] } {
  const calls: [number, number][] = [];
  const inner = bufferReader(bytes);
  return {
    calls,
    read: (start, end) => {
      calls.push([start, end]);
      return inner(start, end);
    },
  };
}

describe("HeaderReader", () => {
  it("serves later requests from bytes already fetched", async () => {
    const { read, calls } = recording(data);
    const reader = new HeaderReader(read, { maxBytes: 1 << 20, minRead: 1024, label: "test" });
    expect(await reader.bytes(0, 10)).toEqual(data.subarray(0, 10));
    expect(await reader.bytes(500, 20)).toEqual(data.subarray(500, 520));
    expect(calls).toEqual([[0, 1023]]);
    expect(reader.bytesRead).toBe(1024);
  });

  it("extends the span it is in rather than refetching its start", async () => {
    const { read, calls } = recording(data);
    const reader = new HeaderReader(read, { maxBytes: 1 << 20, minRead: 1024, label: "test" });
    await reader.bytes(0, 100);
    expect(await reader.bytes(1000, 100)).toEqual(data.subarray(1000, 1100));
    expect(calls).toEqual([
      [0, 1023],
      [1024, 2047],
    ]);
  });

  it("jumps to far offsets with one small read", async () => {
    const { read, calls } = recording(data);
    const reader = new HeaderReader(read, { maxBytes: 1 << 20, minRead: 256, label: "test" });
    await reader.bytes(0, 16);
    expect(await reader.bytes(9000, 4)).toEqual(data.subarray(9000, 9004));
    expect(calls).toEqual([
      [0, 255],
      [9000, 9255],
    ]);
    expect(reader.bytesRead).toBe(512);
  });

  it("never asks past a known size, and reports truncation as a bad image", async () => {
    const { read, calls } = recording(data);
    const reader = new HeaderReader(read, { size: 10_000, maxBytes: 1 << 20, minRead: 4096, label: "png" });
    expect(await reader.upTo(9990, 100)).toEqual(data.subarray(9990));
    expect(calls).toEqual([[9990, 9999]]);
    const err = await reader.bytes(9995, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as TesseraError).errorClass).toBe("bad_image");
    expect((err as TesseraError).message).toMatch(/truncated png: .* ends at 10000/);
  });

  it("learns the end of an object of unknown size from a short read", async () => {
    const { read, calls } = recording(data.subarray(0, 300));
    const reader = new HeaderReader(read, { maxBytes: 1 << 20, minRead: 1024, label: "gif" });
    expect((await reader.upTo(0, 10)).length).toBe(10);
    expect(reader.size).toBe(300);
    expect((await reader.upTo(400, 10)).length).toBe(0);
    expect(calls.length).toBe(1);
  });

  it("refuses to fetch more than maxBytes in all", async () => {
    const reader = new HeaderReader(bufferReader(data), { maxBytes: 2000, minRead: 1024, label: "jpeg" });
    await reader.bytes(0, 10);
    await reader.bytes(5000, 10);
    expect(reader.bytesRead).toBe(2000);
    await expect(reader.bytes(8000, 10)).rejects.toBeInstanceOf(HeaderBudgetError);
    await expect(reader.bytes(8000, 10)).rejects.toThrow(/more than 2000 bytes/);
  });

  it("passes reader errors through untouched (their retry class matters)", async () => {
    const failure = new Error("socket hang up");
    const reader = new HeaderReader(() => Promise.reject(failure), {
      maxBytes: 1000,
      minRead: 100,
      label: "x",
    });
    await expect(reader.bytes(0, 10)).rejects.toBe(failure);
  });

  it("ignores bytes a reader returns beyond the range asked for", async () => {
    const sloppy: RangeReader = () => Promise.resolve(data);
    const reader = new HeaderReader(sloppy, { maxBytes: 1000, minRead: 100, label: "x" });
    expect(await reader.bytes(0, 10)).toEqual(data.subarray(0, 10));
    expect(reader.bytesRead).toBe(100);
  });
});
