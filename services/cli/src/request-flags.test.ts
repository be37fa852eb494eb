import { describe, expect, it } from "vitest";
import { imagesPerRequestFrom, parseQuestions } from "./request-flags.ts";

describe("--questions", () => {
  it("maps each key to its question and names a bad line", () => {
    const map = parseQuestions(
      '{"key":"a.png","question":"How many?"}\n\n{"key":"b/c.jpg","question":" Which colour? "}\n',
      "q.jsonl",
    );
    expect([...map]).toEqual([
      ["a.png", "How many?"],
      ["b/c.jpg", "Which colour?"],
    ]);
    expect(() => parseQuestions('{"key":"a"}', "q.jsonl")).toThrow(/q.jsonl line 1: expected/);
    expect(() => parseQuestions('{"key":"a","question":"x"}\nnope', "q.jsonl")).toThrow(/line 2: not JSON/);
    expect(() => parseQuestions('{"key":"a","question":"x"}\n{"key":"a","question":"y"}', "q")).toThrow(
      /a already has a question/,
    );
    expect(() => parseQuestions("\n", "q")).toThrow(/no questions/);
  });
});

describe("--images-per-request", () => {
  it("defaults to 1 and takes positive integers only", () => {
    expect(imagesPerRequestFrom({})).toBe(1);
    expect(imagesPerRequestFrom({ imagesPerRequest: "8" })).toBe(8);
    expect(() => imagesPerRequestFrom({ imagesPerRequest: "0" })).toThrow(/positive integer/);
    expect(() => imagesPerRequestFrom({ imagesPerRequest: "2.5" })).toThrow(/positive integer/);
  });
});
