import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { EmulatorApiError } from "./errors.ts";
import type { ParseContext } from "./request.ts";
import { parseCountTokensRequest, parseGenerateContentRequest } from "./request.ts";

const context: ParseContext = { model: "gemini-2.5-flash", maxImages: 3600 };
let png = "";
let jpeg = "";

beforeAll(async () => {
  const base = sharp({ create: { width: 4, height: 3, channels: 3, background: "#336699" } });
  png = (await base.clone().png().toBuffer()).toString("base64");
  jpeg = (await base.clone().jpeg().toBuffer()).toString("base64");
});

function withParts(...parts: unknown[]): unknown {
  return { contents: [{ role: "user", parts }] };
}

function inline(mimeType: string, data: string): unknown {
  return { inlineData: { mimeType, data } };
}

function apiError(run: () => unknown): EmulatorApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof EmulatorApiError) return error;
    throw error;
  }
  throw new Error("expected an EmulatorApiError");
}

describe("parseGenerateContentRequest", () => {
  it("collects texts (system instruction first) and images with their field paths", () => {
    const parsed = parseGenerateContentRequest(
      {
        systemInstruction: { parts: [{ text: "Be brief." }] },
        contents: [
          { role: "user", parts: [inline("image/png", png), { text: "What is this?" }] },
          { role: "model", parts: [{ text: "A square." }] },
          { parts: [inline("IMAGE/JPEG", jpeg)] },
        ],
      },
      context,
    );
    expect(parsed.texts).toEqual(["Be brief.", "What is this?", "A square."]);
    expect(parsed.images.map(({ index, field, mimeType }) => ({ index, field, mimeType }))).toEqual([
      { index: 0, field: "contents[0].parts[0].inline_data", mimeType: "image/png" },
      { index: 1, field: "contents[2].parts[0].inline_data", mimeType: "image/jpeg" },
    ]);
    expect(parsed.images[0]?.bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(parsed.generation).toEqual({
      responseMimeType: "text/plain",
      maxOutputTokens: undefined,
      schema: undefined,
      includeThoughts: false,
      thinkingBudget: undefined,
      mediaResolution: undefined,
    });
  });

  it("accepts snake_case field names as proto JSON does", () => {
    const parsed = parseGenerateContentRequest(
      {
        contents: [{ parts: [{ inline_data: { mime_type: "image/png", data: png } }] }],
        generation_config: { response_mime_type: "application/json", max_output_tokens: 10 },
      },
      context,
    );
    expect(parsed.images).toHaveLength(1);
    expect(parsed.generation).toMatchObject({ responseMimeType: "application/json", maxOutputTokens: 10 });
  });

  it("accepts URL-safe base64 and HEIC bytes labelled image/heif", () => {
    const urlSafe = png.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    expect(parseGenerateContentRequest(withParts(inline("image/png", urlSafe)), context).images).toHaveLength(
      1,
    );
    const heic = Buffer.alloc(24);
    heic.writeUInt32BE(24, 0);
    heic.write("ftypheic\0\0\0\0mif1heic", 4, "latin1");
    const parsed = parseGenerateContentRequest(
      withParts(inline("image/heif", heic.toString("base64"))),
      context,
    );
    expect(parsed.images[0]?.mimeType).toBe("image/heif");
  });

  it.each([
    [{}, /^\* GenerateContentRequest\.contents: contents is not specified$/],
    [{ contents: [] }, /contents is not specified/],
    [{ contents: [{ role: "user", parts: [] }] }, /contents\[0\]\.parts: contents\.parts must not be empty/],
    [{ contents: [{ role: "system", parts: [{ text: "x" }] }] }, /^Please use a valid role: user, model\.$/],
    [
      withParts({ thought: true }),
      /parts\[0\]\.data: required oneof field 'data' must have one initialized field/,
    ],
    [withParts({ text: "a", inlineData: {} }), /Oneof field 'data' is already set\. Cannot set 'inlineData'/],
    [withParts({ text: 5 }), /Invalid value at 'contents\[0\]\.parts\[0\]\.text' \(TYPE_STRING\), 5/],
    [[1, 2], /Expected an object at 'GenerateContentRequest'/],
  ])("rejects malformed request %j", (body, message) => {
    const error = apiError(() => parseGenerateContentRequest(body, context));
    expect(error.code).toBe(400);
    expect(error.message).toMatch(message);
  });

  describe("fileData parts", () => {
    const fileData = (fileUri: string, mimeType?: string) => ({ fileData: { fileUri, mimeType } });
    const withFiles = (files: Record<string, { bytes: string; mimeType: string }>): ParseContext => ({
      ...context,
      resolveFile: ({ fileUri, field }) => {
        const file = files[fileUri];
        if (file === undefined) throw new EmulatorApiError(403, `no ${fileUri} at ${field}`);
        return { bytes: Buffer.from(file.bytes, "base64"), mimeType: file.mimeType };
      },
    });

    it("become images in reading order, typed by the part or else by the file", () => {
      const parsed = parseGenerateContentRequest(
        withParts(fileData("files/a", "image/png"), inline("image/png", png), fileData("files/b")),
        withFiles({
          "files/a": { bytes: png, mimeType: "image/png" },
          "files/b": { bytes: jpeg, mimeType: "image/jpeg" },
        }),
      );
      expect(parsed.images.map(({ index, field, mimeType }) => ({ index, field, mimeType }))).toEqual([
        { index: 0, field: "contents[0].parts[0].file_data", mimeType: "image/png" },
        { index: 1, field: "contents[0].parts[1].inline_data", mimeType: "image/png" },
        { index: 2, field: "contents[0].parts[2].file_data", mimeType: "image/jpeg" },
      ]);
      expect(parsed.images[2]?.bytes).toEqual(Buffer.from(jpeg, "base64"));
    });

    it("pass the resolver's errors through, with the part's field path", () => {
      const error = apiError(() =>
        parseGenerateContentRequest(withParts(fileData("files/zz")), withFiles({})),
      );
      expect(error.code).toBe(403);
      expect(error.message).toBe("no files/zz at contents[0].parts[0].file_data");
    });

    it("get the inline checks: supported type, and bytes of that type", () => {
      const files = withFiles({ "files/a": { bytes: jpeg, mimeType: "image/jpeg" } });
      expect(
        apiError(() => parseGenerateContentRequest(withParts(fileData("files/a", "image/gif")), files))
          .message,
      ).toBe("Unsupported MIME type: image/gif");
      const mismatch = apiError(() =>
        parseGenerateContentRequest(withParts(fileData("files/a", "image/png")), files),
      );
      expect(mismatch.message).toMatch(/^Unable to process input image\./);
      expect(JSON.stringify(mismatch.body)).toContain("contents[0].parts[0].file_data.file_uri");
    });

    it("need a file_uri, and a resolver to look it up", () => {
      const files = withFiles({});
      expect(
        apiError(() => parseGenerateContentRequest(withParts({ fileData: { mimeType: "image/png" } }), files))
          .message,
      ).toBe("* GenerateContentRequest.contents[0].parts[0].file_data.file_uri: file_uri must be set");
      expect(
        apiError(() => parseGenerateContentRequest(withParts(fileData("files/a")), context)).message,
      ).toMatch(/files are not available here/);
    });
  });

  it.each(["image/gif", "application/pdf", "image/jpg", ""])("rejects MIME type %j", (mimeType) => {
    const error = apiError(() => parseGenerateContentRequest(withParts(inline(mimeType, png)), context));
    expect(error.body.error).toMatchObject({
      code: 400,
      status: "INVALID_ARGUMENT",
      message: `Unsupported MIME type: ${mimeType}`,
    });
  });

  it("rejects bytes that are not the declared type, saying what they look like", () => {
    const error = apiError(() =>
      parseGenerateContentRequest(withParts({ text: "x" }, inline("image/png", jpeg)), context),
    );
    expect(error.code).toBe(400);
    expect(error.message).toMatch(/^Unable to process input image\./);
    expect(error.body.error.details[0]).toMatchObject({
      fieldViolations: [
        {
          field: "contents[0].parts[1].inline_data.data",
          description: "declared image/png, but the bytes look like image/jpeg",
        },
      ],
    });
    const text = Buffer.from("%PDF-1.7 not an image").toString("base64");
    const unknown = apiError(() =>
      parseGenerateContentRequest(withParts(inline("image/webp", text)), context),
    );
    expect(JSON.stringify(unknown.body)).toContain('starts with \\"%PDF-1.7\\"');
  });

  it("rejects data that is not base64", () => {
    const error = apiError(() =>
      parseGenerateContentRequest(withParts(inline("image/png", "not base64!")), context),
    );
    expect(error.message).toMatch(
      /^Invalid value at 'contents\[0\]\.parts\[0\]\.inline_data\.data' \(TYPE_BYTES\), Base64 decoding failed/,
    );
    expect(
      apiError(() => parseGenerateContentRequest(withParts(inline("image/png", "abcde")), context)).code,
    ).toBe(400);
  });

  it("enforces the per-request image limit", () => {
    const body = withParts(inline("image/png", png), inline("image/png", png), inline("image/png", png));
    expect(parseGenerateContentRequest(body, { ...context, maxImages: 3 }).images).toHaveLength(3);
    const error = apiError(() => parseGenerateContentRequest(body, { ...context, maxImages: 2 }));
    expect(error.message).toMatch(/models\/gemini-2\.5-flash accepts at most 2 images per request/);
  });
});

describe("generationConfig", () => {
  function parseConfig(generationConfig: unknown, model = "gemini-2.5-flash") {
    return parseGenerateContentRequest(
      { ...(withParts({ text: "x" }) as object), generationConfig },
      { ...context, model },
    ).generation;
  }

  it("reads schema, thinking and media resolution settings", () => {
    const schema = { type: "OBJECT", properties: { a: { type: "STRING" } } };
    expect(
      parseConfig({
        responseMimeType: "application/json",
        responseSchema: schema,
        thinkingConfig: { thinkingBudget: 0, includeThoughts: true },
        mediaResolution: "MEDIA_RESOLUTION_LOW",
      }),
    ).toMatchObject({ schema, thinkingBudget: 0, includeThoughts: true, mediaResolution: "LOW" });
    const jsonSchema = { type: "object" };
    expect(parseConfig({ responseMimeType: "application/json", responseJsonSchema: jsonSchema }).schema).toBe(
      jsonSchema,
    );
    expect(parseConfig({ mediaResolution: "MEDIA_RESOLUTION_UNSPECIFIED" }).mediaResolution).toBeUndefined();
  });

  it("reads a per-part media resolution", () => {
    const parsed = parseGenerateContentRequest(
      withParts({
        inlineData: { mimeType: "image/png", data: png },
        mediaResolution: { level: "MEDIA_RESOLUTION_ULTRA_HIGH" },
      }),
      context,
    );
    expect(parsed.images[0]?.mediaResolution).toBe("ULTRA_HIGH");
  });

  it.each([
    [{ responseMimeType: "text/html" }, /allowed mimetypes are `text\/plain`, `application\/json`/],
    [{ maxOutputTokens: 0 }, /max_output_tokens/],
    [{ maxOutputTokens: 1.5 }, /max_output_tokens/],
    [
      { responseSchema: { type: "OBJECT" } },
      /response_mime_type must be `application\/json` or `text\/x\.enum`/,
    ],
    [{ thinkingConfig: { thinkingBudget: "a lot" } }, /thinking_budget/],
    [{ mediaResolution: "LOW" }, /media_resolution' \(TYPE_ENUM\), "LOW"/],
  ])("rejects %j", (config, message) => {
    const error = apiError(() => parseConfig(config));
    expect(error.code).toBe(400);
    expect(error.message).toMatch(message);
  });

  it("refuses to switch thinking off on 2.5 Pro, as the API does", () => {
    const error = apiError(() => parseConfig({ thinkingConfig: { thinkingBudget: 0 } }, "gemini-2.5-pro"));
    expect(error.message).toBe("Budget 0 is invalid. This model only works in thinking mode.");
    expect(parseConfig({ thinkingConfig: { thinkingBudget: 128 } }, "gemini-2.5-pro").thinkingBudget).toBe(
      128,
    );
  });
});

describe("parseCountTokensRequest", () => {
  it("takes bare contents or a whole generateContentRequest", () => {
    expect(
      parseCountTokensRequest(withParts({ text: "hi" }, inline("image/png", png)), context),
    ).toMatchObject({
      texts: ["hi"],
      images: [{ mimeType: "image/png" }],
    });
    const wrapped = parseCountTokensRequest(
      {
        generateContentRequest: {
          model: "models/gemini-2.5-flash",
          systemInstruction: { parts: [{ text: "sys" }] },
          ...(withParts({ text: "hi" }) as object),
        },
      },
      context,
    );
    expect(wrapped.texts).toEqual(["sys", "hi"]);
    expect(apiError(() => parseCountTokensRequest({}, context)).message).toBe(
      "* CountTokensRequest.contents: contents is not specified",
    );
  });
});
