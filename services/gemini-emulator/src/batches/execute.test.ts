import { describe, expect, it } from "vitest";
import { internalError, invalidArgument } from "../errors.ts";
import { fileNotAccessible, fileNotActive } from "../files/errors.ts";
import { statusOf } from "./execute.ts";

describe("statusOf", () => {
  it("turns API errors into google.rpc.Status with gRPC codes, as batch results carry them", () => {
    expect(statusOf(invalidArgument("bad"))).toEqual({ code: 3, message: "bad" });
    expect(statusOf(fileNotAccessible("abc")).code).toBe(7);
    expect(statusOf(fileNotActive("abc")).code).toBe(9);
    expect(statusOf(internalError()).code).toBe(13);
  });

  it("keeps details, and reports anything else as INTERNAL", () => {
    const withDetail = invalidArgument("bad", { field: "f", description: "d" });
    expect(statusOf(withDetail).details).toHaveLength(1);
    expect(statusOf(new Error("boom"))).toEqual({
      code: 13,
      message: "An internal error has occurred. (emulator: boom)",
    });
  });
});
