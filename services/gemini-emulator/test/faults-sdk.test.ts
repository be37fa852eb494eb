// Faults as the real @google/genai SDK meets them: picked for exactly one image by a marker in its
// bytes, for one call by a header, or by seeded rates.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { GenerateContentParameters, GenerateContentResponse } from "@google/genai";
import { ApiError, FinishReason, GoogleGenAI, createPartFromBase64, createPartFromUri } from "@google/genai";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator, EmulatorOptions } from "../src/index.ts";
import { markImage, startEmulator } from "../src/index.ts";

const MODEL = "gemini-2.5-flash";
const PROMPT = "Find the objects.";
const COLOURS = ["#d01010", "#10a030", "#1030c0", "#f0d020"];

let emulator: Emulator;
let ai: GoogleGenAI;
let plain: Buffer[];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  ai = new GoogleGenAI({ apiKey: "fault-test", httpOptions: { baseUrl: emulator.url } });
  plain = await Promise.all(
    COLOURS.map((background) =>
      sharp({ create: { width: 96, height: 64, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => {
  emulator.resetStats();
});

function ask(
  images: Buffer[],
  extra: Partial<GenerateContentParameters> = {},
): Promise<GenerateContentResponse> {
  const mime = (bytes: Buffer) => (bytes[0] === 0xff ? "image/jpeg" : "image/png");
  return ai.models.generateContent({
    model: MODEL,
    contents: [...images.map((bytes) => createPartFromBase64(bytes.toString("base64"), mime(bytes))), PROMPT],
    ...extra,
  });
}

async function outcome(call: Promise<unknown>): Promise<number | "network" | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    return "network";
  }
}

/** JSON mode with a detection-like schema, so the answer is a list of {label, box_2d}. */
const DETECT: Partial<GenerateContentParameters> = {
  config: {
    responseMimeType: "application/json",
    responseJsonSchema: {
      type: "array",
      items: {
        type: "object",
        properties: { label: { type: "string" }, box_2d: { type: "array", items: { type: "integer" } } },
      },
    },
  },
};

describe("markers in the image bytes", () => {
  it("fail exactly the request that carries the marked image, every time it is sent", async () => {
    const images = [...plain];
    images[2] = markImage(plain[2]!, "503");
    const first = await Promise.all(images.map((image) => outcome(ask([image]))));
    expect(first).toEqual(["ok", "ok", 503, "ok"]);
    const again = await Promise.all(images.map((image) => outcome(ask([image]))));
    expect(again).toEqual(first);
    // Among several images in one request, one marked image is enough.
    expect(await outcome(ask([plain[0]!, images[2], plain[1]!]))).toBe(503);
    // countTokens ignores image markers, so a budget probe does not trip the answer's fault.
    const counted = ai.models.countTokens({
      model: MODEL,
      contents: [createPartFromBase64(images[2].toString("base64"), "image/png"), PROMPT],
    });
    expect(await outcome(counted)).toBe("ok");
    expect(emulator.snapshot().faultsInjected).toEqual({ 503: 3 });
  });

  it("work in a JPEG comment, and leave the answer about the image unchanged", async () => {
    const jpeg = await sharp(plain[1]).jpeg().toBuffer();
    const marked = markImage(jpeg, "fence");
    const [normal, fenced] = await Promise.all([ask([jpeg]), ask([marked])]);
    expect(fenced.text).toBe("```json\n" + normal.text + "\n```");
  });

  it("work for uploaded files and fetched URLs as for inline data", async () => {
    const marked = markImage(plain[0]!, "504");
    const uploaded = await ai.files.upload({ file: new Blob([marked], { type: "image/png" }) });
    const viaFile = ai.models.generateContent({
      model: MODEL,
      contents: [createPartFromUri(uploaded.uri!, "image/png"), PROMPT],
    });
    expect(await outcome(viaFile)).toBe(504);

    const server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "image/png" }).end(marked),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/photo.png?X-Amz-Signature=secret`;
      const viaUrl = ai.models.generateContent({
        model: MODEL,
        contents: [createPartFromUri(url, "image/png"), PROMPT],
      });
      expect(await outcome(viaUrl)).toBe(504);
    } finally {
      server.close();
    }
  });

  it("turn a marked 429:3 into a burst: that request and the next two", async () => {
    const burst = markImage(plain[0]!, "429:3");
    const outcomes = [await outcome(ask([burst]))];
    for (let i = 0; i < 3; i += 1) outcomes.push(await outcome(ask([plain[1]!])));
    expect(outcomes).toEqual([429, 429, 429, "ok"]);
  });

  it("are refused with a 400 naming the image when malformed", async () => {
    const bad = markImage(plain[0]!, "503");
    const typo = Buffer.from(
      bad.toString("latin1").replace("tessera-fault\u0000503", "tessera-fault\u0000530"),
      "latin1",
    );
    const error = await ask([plain[1]!, typo]).then(
      () => undefined,
      (thrown: unknown) => thrown as ApiError,
    );
    expect(error?.status).toBe(400);
    expect(error?.message).toContain("the marker in contents[0].parts[1].inline_data");
    expect(error?.message).toContain('unknown fault \\"530\\"');
  });
});

describe("the x-tessera-fault header", () => {
  it("reaches the emulator through the SDK's per-request httpOptions.headers, for that call only", async () => {
    const faulty = ask([plain[0]!], { config: { httpOptions: { headers: { "x-tessera-fault": "500" } } } });
    expect(await outcome(faulty)).toBe(500);
    expect(await outcome(ask([plain[0]!]))).toBe("ok");
  });
});

describe("error faults", () => {
  it("drop the connection mid-answer: the SDK sees a network error, not an API error", async () => {
    const error = await ask([markImage(plain[0]!, "reset")]).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(await outcome(ask([plain[0]!]))).toBe("ok");
    expect(emulator.snapshot().faultsInjected).toEqual({ reset: 1 });
  });

  it("answer 503 with the overloaded message and 504 as DEADLINE_EXCEEDED", async () => {
    const statusOf = async (spec: string) => {
      const error = (await ask([markImage(plain[0]!, spec)]).catch((thrown: unknown) => thrown)) as ApiError;
      return JSON.parse(error.message) as { error: { status: string; message: string } };
    };
    expect((await statusOf("503")).error).toMatchObject({
      status: "UNAVAILABLE",
      message: "The model is overloaded. Please try again later.",
    });
    expect((await statusOf("504")).error.status).toBe("DEADLINE_EXCEEDED");
  });
});

describe("safety faults", () => {
  it("block the prompt: no candidates, blockReason SAFETY, the prompt's usage", async () => {
    const response = await ask([markImage(plain[0]!, "block")]);
    expect(response.candidates).toBeUndefined();
    expect(response.text).toBeUndefined();
    expect(response.promptFeedback?.blockReason).toBe("SAFETY");
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(258);
    expect(response.usageMetadata?.totalTokenCount).toBe(response.usageMetadata?.promptTokenCount);
  });

  it("stop the candidate with finishReason SAFETY and ratings", async () => {
    const response = await ask([markImage(plain[0]!, "safety")]);
    const [candidate] = response.candidates ?? [];
    expect(candidate?.finishReason).toBe(FinishReason.SAFETY);
    expect(candidate?.content).toBeUndefined();
    expect(candidate?.safetyRatings).toContainEqual(
      expect.objectContaining({
        category: "HARM_CATEGORY_DANGEROUS_CONTENT",
        probability: "HIGH",
        blocked: true,
      }),
    );
    expect(response.text).toBeUndefined();
  });
});

describe("odd answer shapes", () => {
  it("return a detection list fenced, with prose, reversed, past 1000, duplicated, wrapped, as seg tokens", async () => {
    const normal = JSON.parse((await ask([plain[0]!], DETECT)).text!) as unknown;
    expect(normal).toEqual([{ label: "red", box_2d: [0, 0, 1000, 1000] }]);

    const prose = (await ask([markImage(plain[0]!, "fence,prose")], DETECT)).text!;
    expect(prose).toMatch(/^Sure! .*\n\n```json\n\[.*\]\n```\n\nLet me know/s);

    const odd = (
      await ask([markImage(plain[0]!, "reversed-boxes,over-1000,duplicates,wrapped-boxes,seg-masks")], DETECT)
    ).text!;
    const wrapped = JSON.parse(odd) as { boxes: { label: string; box_2d: number[]; mask: string }[] };
    expect(wrapped.boxes).toHaveLength(2);
    expect(wrapped.boxes[0]!.box_2d).toEqual([1000, 1000, 1000, 1004]);
    expect(wrapped.boxes[1]).toMatchObject({
      label: wrapped.boxes[0]!.label,
      box_2d: wrapped.boxes[0]!.box_2d,
    });
    expect(wrapped.boxes[0]!.mask).toMatch(/^<start_of_mask>(<seg_\d+>){16}$/);
  });

  it("cut the answer at N tokens with finishReason MAX_TOKENS, billing what was sent", async () => {
    const response = await ask([markImage(plain[0]!, "truncate:3")], DETECT);
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.MAX_TOKENS);
    expect(response.text).toBe('[{"label":"r');
    expect(response.usageMetadata?.candidatesTokenCount).toBe(3);
    expect(emulator.stats.billedOutputTokens).toBe(3);
  });
});

describe("faults by rate", () => {
  async function run(options: EmulatorOptions): Promise<(string | number)[]> {
    const seeded = await startEmulator(options);
    try {
      const client = new GoogleGenAI({ apiKey: "rates", httpOptions: { baseUrl: seeded.url } });
      const seen: (string | number)[] = [];
      for (let i = 0; i < 24; i += 1) {
        const answer = client.models.generateContent({
          model: MODEL,
          contents: [createPartFromBase64(plain[0]!.toString("base64"), "image/png"), PROMPT],
        });
        const result = await answer.then(
          (response) => (response.text?.startsWith("```") ? "fenced" : "plain"),
          (error: unknown) => (error instanceof ApiError ? error.status : "network"),
        );
        seen.push(result);
      }
      return seen;
    } finally {
      await seeded.close();
    }
  }

  it("replay exactly under the same seed, and differ under another", async () => {
    const faults = { rates: { "503": 0.25, reset: 0.1, fence: 0.5 } };
    const first = await run({ faults, seed: 7 });
    expect(first).toContain(503);
    expect(first).toContain("network");
    expect(first).toContain("fenced");
    expect(first).toContain("plain");
    expect(await run({ faults, seed: 7 })).toEqual(first);
    expect(await run({ faults, seed: 8 })).not.toEqual(first);
  });
});
