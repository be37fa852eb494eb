import { describe, expect, it } from "vitest";
import { bindTask } from "./registry.ts";
import {
  STRICT_JSON_INSTRUCTION,
  STRICT_KEYS_INSTRUCTION,
  STRICT_TEXT_INSTRUCTION,
  stricterRequest,
} from "./strict-request.ts";
import type { TaskRequest } from "./contract.ts";

const MODEL = "gemini-2.5-flash";
const textsOf = (request: TaskRequest) =>
  request.parts.flatMap((part) => (part.kind === "text" ? [part.text] : []));

describe("stricterRequest", () => {
  it("asks a JSON task for JSON only, keeping the schema, images and config", () => {
    const task = bindTask("classify", { labels: ["cat", "dog"] }, MODEL);
    const plain = task.build(1);
    const strict = stricterRequest(plain);
    expect(strict.prompt).toBe(`${plain.prompt}\n${STRICT_JSON_INSTRUCTION}`);
    expect(strict.parts).toEqual([...plain.parts.slice(0, -1), { kind: "text", text: strict.prompt }]);
    expect(strict.generationConfig).toEqual(plain.generationConfig);
    expect(strict.prompt).not.toContain(STRICT_KEYS_INSTRUCTION);
  });

  it("with several images also asks for every image's key", () => {
    const plain = bindTask("caption", {}, MODEL).build(3);
    const strict = stricterRequest(plain);
    expect(strict.prompt).toBe(`${plain.prompt}\n${STRICT_JSON_INSTRUCTION} ${STRICT_KEYS_INSTRUCTION}`);
    // The image labels stay where they were; only the instruction grows.
    expect(textsOf(strict).slice(0, 3)).toEqual(["Image img_1:", "Image img_2:", "Image img_3:"]);
    expect(strict.parts.filter((p) => p.kind === "image")).toHaveLength(3);
  });

  it("asks a plain-text task for plain text, not JSON", () => {
    for (const task of [
      bindTask("caption", {}, MODEL),
      bindTask("custom", { prompt: "Count the cats." }, MODEL),
    ]) {
      const plain = task.build(1);
      const strict = stricterRequest(plain);
      expect(strict.prompt).toBe(`${plain.prompt}\n${STRICT_TEXT_INSTRUCTION}`);
      expect(strict.generationConfig).toEqual({});
    }
  });

  it("only appends to the prompt, for every JSON task, and leaves the request it was given alone", () => {
    const tasks = [
      bindTask("detect", { labels: ["cat"] }, MODEL),
      bindTask("segment", { labels: ["cat"] }, MODEL),
      bindTask("vqa", { question: "What colour?" }, MODEL),
      bindTask("compare", {}, MODEL),
      bindTask("custom", { prompt: "Describe.", schema: { type: "object", properties: {} } }, MODEL),
    ];
    for (const task of tasks) {
      const plain = task.build(task.multiImage === "set" ? 2 : 1);
      const strict = stricterRequest(plain);
      expect(strict.prompt.startsWith(plain.prompt)).toBe(true);
      expect(strict.prompt).toContain(STRICT_JSON_INSTRUCTION);
      expect(strict.systemInstruction).toBe(plain.systemInstruction);
      expect(task.build(task.multiImage === "set" ? 2 : 1)).toEqual(plain);
    }
  });

  it("adds the instruction as its own part when the prompt is not the last part", () => {
    const request: TaskRequest = {
      prompt: "Describe.",
      parts: [
        { kind: "text", text: "Describe." },
        { kind: "image", index: 0 },
      ],
      generationConfig: {},
    };
    expect(stricterRequest(request).parts).toEqual([
      ...request.parts,
      { kind: "text", text: STRICT_TEXT_INSTRUCTION },
    ]);
  });
});
