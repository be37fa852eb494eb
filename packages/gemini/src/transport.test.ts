import { describe, expect, it } from "vitest";
import type { FilesCache } from "./files-cache.ts";
import { imagePart, inlinePart, urlPart } from "./transport.ts";

const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]);

describe("inlinePart / urlPart", () => {
  it("base64-encodes inline bytes", () => {
    expect(inlinePart(bytes, "image/png")).toEqual({
      inlineData: { mimeType: "image/png", data: "iVBOR/8=" },
    });
  });

  it("passes http(s) URLs as fileData and refuses anything Gemini would read as a file name", () => {
    const url = "https://bucket.s3.example.com/a.png?X-Amz-Signature=abc";
    expect(urlPart(url, "image/png")).toEqual({ fileData: { fileUri: url, mimeType: "image/png" } });
    expect(() => urlPart("files/abc", "image/png")).toThrow(/not a valid URL/);
    expect(() => urlPart("s3://bucket/a.png", "image/png")).toThrow(/only http\(s\) URLs, got s3:/);
  });
});

describe("imagePart", () => {
  const calls: unknown[] = [];
  const files: Pick<FilesCache, "getOrUpload"> = {
    getOrUpload: (image) => {
      calls.push(image);
      return Promise.resolve({
        fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc",
        mimeType: "image/png",
        name: "files/abc",
        hash: "h",
      });
    },
  };

  it("builds each transport's part", async () => {
    const base = { bytes, mimeType: "image/png", runId: "r1", files };
    await expect(imagePart({ ...base, transport: "inline" })).resolves.toEqual(
      inlinePart(bytes, "image/png"),
    );
    await expect(
      imagePart({ ...base, transport: "url", presignedUrl: "http://127.0.0.1:7480/b/a.png?sig=1" }),
    ).resolves.toEqual({
      fileData: { fileUri: "http://127.0.0.1:7480/b/a.png?sig=1", mimeType: "image/png" },
    });
    await expect(imagePart({ ...base, transport: "files" })).resolves.toEqual({
      fileData: {
        fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc",
        mimeType: "image/png",
      },
    });
    expect(calls).toEqual([{ bytes, mimeType: "image/png", runId: "r1" }]);
  });

  it("says what is missing for url and files", async () => {
    await expect(imagePart({ transport: "url", bytes, mimeType: "image/png", runId: "r1" })).rejects.toThrow(
      /needs a presignedUrl/,
    );
    await expect(
      imagePart({ transport: "files", bytes, mimeType: "image/png", runId: "r1" }),
    ).rejects.toThrow(/needs a FilesCache/);
  });
});
