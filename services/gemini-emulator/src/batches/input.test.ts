import { describe, expect, it } from "vitest";
import { EmulatorApiError } from "../errors.ts";
import { countJsonlLines, parseBatchCreate, parseJsonl } from "./input.ts";

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EmulatorApiError) return error.message;
    throw error;
  }
  throw new Error("expected an EmulatorApiError");
}

describe("parseBatchCreate", () => {
  it("reads inline requests with their metadata, camelCase or snake_case", () => {
    const request = { contents: [{ parts: [{ text: "hi" }] }] };
    expect(
      parseBatchCreate({
        batch: {
          display_name: "nightly",
          input_config: { requests: { requests: [{ request, metadata: { key: "a" } }, { request }] } },
        },
      }),
    ).toEqual({
      displayName: "nightly",
      input: {
        kind: "inline",
        requests: [
          { key: undefined, metadata: { key: "a" }, request },
          { key: undefined, metadata: undefined, request },
        ],
      },
    });
  });

  it("reads a file input", () => {
    expect(parseBatchCreate({ batch: { inputConfig: { fileName: "files/abc" } } })).toEqual({
      displayName: undefined,
      input: { kind: "file", fileName: "files/abc" },
    });
  });

  it.each([
    [{}, /batch is required/],
    [{ batch: { displayName: "x" } }, /input_config is required/],
    [{ batch: { inputConfig: {} } }, /exactly one of file_name and requests/],
    [{ batch: { inputConfig: { fileName: "files/a", requests: { requests: [] } } } }, /exactly one of/],
    [{ batch: { inputConfig: { requests: { requests: [] } } } }, /requests must not be empty/],
    [
      { batch: { inputConfig: { requests: { requests: [{ metadata: {} }] } } } },
      /requests\[0\]\.request: request is required/,
    ],
    [{ batch: { inputConfig: { fileName: 7 } } }, /file_name/],
    [{ batch: { displayName: 7, inputConfig: { fileName: "files/a" } } }, /display_name/],
  ])("400s %j", (body, message) => {
    expect(messageOf(() => parseBatchCreate(body))).toMatch(message);
  });
});

describe("parseJsonl", () => {
  it("reads keyed requests, skipping blank lines", () => {
    const bytes = Buffer.from('{"key":"a","request":{"contents":[]}}\n\n{"request":{}}\n');
    expect(parseJsonl(bytes, "files/in")).toEqual([
      { key: "a", metadata: undefined, request: { contents: [] } },
      { key: undefined, metadata: undefined, request: {} },
    ]);
    expect(countJsonlLines(bytes)).toBe(2);
  });

  it("names the line that is not JSON, or not a request", () => {
    expect(messageOf(() => parseJsonl(Buffer.from('{"request":{}}\n{oops'), "files/in"))).toBe(
      "Invalid JSON at line 2 of files/in.",
    );
    expect(messageOf(() => parseJsonl(Buffer.from('{"key":"a"}'), "files/in"))).toMatch(
      /^line 1 of files\/in is not/,
    );
  });
});
