import { describe, expect, it } from "vitest";
import { toCsv } from "./csv.ts";
import { toJsonl } from "./jsonl.ts";
import type { ExportRecord } from "./record.ts";

const source = (key: string) => ({ key, width: 100, height: 50 });

const segment: ExportRecord = {
  task: "segment",
  source: source("s.png"),
  result: {
    objects: [
      {
        label: "cup",
        box: [1, 2, 3, 4],
        mask: { area: 3, rle: { size: [50, 100], counts: [102, 3, 4895] }, png: "iVBORw0KGgo=" },
      },
      { label: "lid", box: [5, 6, 7, 8], mask: null },
    ],
  },
};

describe("toJsonl", () => {
  it("writes one line per annotation, leaving mask PNGs out unless asked", () => {
    const lines = toJsonl([segment, { ...segment, source: source("t.png") }]).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toEqual({
      key: "s.png",
      width: 100,
      height: 50,
      task: "segment",
      result: {
        objects: [
          {
            label: "cup",
            box: [1, 2, 3, 4],
            mask: { area: 3, rle: { size: [50, 100], counts: [102, 3, 4895] } },
          },
          { label: "lid", box: [5, 6, 7, 8], mask: null },
        ],
      },
    });
    expect(toJsonl([segment], { includeMaskPng: true })).toContain('"png":"iVBORw0KGgo="');
  });
});

describe("toCsv", () => {
  it("quotes cells as RFC 4180 says", () => {
    const csv = toCsv([
      { task: "caption", source: source("a,b.jpg"), result: { caption: 'A "red" mug,\nwith a lid' } },
      { task: "caption", source: source("plain.jpg"), result: { caption: "Plain" } },
    ]);
    expect(csv).toBe('key,caption\r\n"a,b.jpg","A ""red"" mug,\nwith a lid"\r\nplain.jpg,Plain\r\n');
  });

  it("writes a row per object for geometry, and a row for images without any", () => {
    const csv = toCsv([segment, { task: "segment", source: source("none.png"), result: { objects: [] } }]);
    expect(csv.split("\r\n")).toEqual([
      "key,width,height,label,x0,y0,x1,y1,area",
      "s.png,100,50,cup,1,2,3,4,3",
      "s.png,100,50,lid,5,6,7,8,",
      "none.png,100,50,,,,,,",
      "",
    ]);
    const detect = toCsv([
      { task: "detect", source: source("d.png"), result: { objects: [{ label: "x", box: [0, 0, 10, 5] }] } },
    ]);
    expect(detect).toContain("d.png,100,50,x,0,0,10,5,50\r\n");
  });

  it("has columns for every other task", () => {
    expect(toCsv([{ task: "classify", source: source("c"), result: { labels: ["cat", "dog"] } }])).toBe(
      "key,labels\r\nc,cat | dog\r\n",
    );
    expect(toCsv([{ task: "vqa", source: source("v"), result: { question: "Q?", answer: "A." } }])).toBe(
      "key,question,answer\r\nv,Q?,A.\r\n",
    );
    expect(
      toCsv([
        {
          task: "compare",
          source: source("p"),
          result: { summary: "S", differences: [{ description: "D", images: ["a", "b"] }] },
        },
      ]),
    ).toBe('set,members,summary,differences\r\np,p,S,"D [a, b]"\r\n');
    const set = { id: "pair-1", members: [{ key: "a" }, { key: "b" }] };
    const result = { summary: "S", differences: [] };
    expect(toCsv([{ task: "compare", source: source("a"), set, result }])).toBe(
      "set,members,summary,differences\r\npair-1,a | b,S,\r\n",
    );
    expect(toJsonl([{ task: "compare", source: source("a"), set, result }])).toBe(
      '{"set":"pair-1","members":["a","b"],"task":"compare","result":{"summary":"S","differences":[]}}\n',
    );
    expect(toCsv([{ task: "custom", source: source("j"), result: { json: { n: 1 } } }])).toBe(
      'key,answer\r\nj,"{""n"":1}"\r\n',
    );
    expect(toCsv([])).toBe("");
  });

  it("refuses annotations of different tasks", () => {
    expect(() =>
      toCsv([
        { task: "vqa", source: source("v"), result: { question: "Q", answer: "A" } },
        { task: "caption", source: source("c"), result: { caption: "C" } },
      ]),
    ).toThrow(/one task at a time/);
  });
});
