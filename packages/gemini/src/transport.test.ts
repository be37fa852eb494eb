import { describe, expect, it } from "vitest";
import type { FilesCache } from "./files-cache.ts";
import { chooseTransport, imagePart, inlinePart, requestTransports, urlPart } from "./transport.ts";

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

describe("the transport rule", () => {
  const MB = 1024 * 1024;
  it("uploads images used more than once or too big for inline, inlines the rest, keeps a forced policy", () => {
    expect(chooseTransport({ bytes: 1_000, uses: 2 }, "auto", 20 * MB)).toBe("files");
    expect(chooseTransport({ bytes: 1_000 }, "auto", 20 * MB)).toBe("inline");
    expect(chooseTransport({ bytes: 30 * MB }, "auto", 20 * MB)).toBe("files");
    expect(chooseTransport({ bytes: 30 * MB }, "auto", 20 * MB, false)).toBe("inline");
    expect(chooseTransport({ bytes: 1_000 }, "url", 20 * MB)).toBe("url");
  });

  it("moves the largest images of a request to the Files API until the rest fits inline", () => {
    const images = [{ bytes: 6 * MB }, { bytes: 1 * MB }, { bytes: 7 * MB }, { bytes: 2 * MB }];
    expect(requestTransports(images, "auto", 15 * MB)).toEqual(["inline", "inline", "files", "inline"]);
    expect(requestTransports(images, "auto", 15 * MB, false)).toEqual([
      "inline",
      "inline",
      "inline",
      "inline",
    ]);
    expect(requestTransports(images, "inline", 15 * MB)).toEqual(["inline", "inline", "inline", "inline"]);
  });
});
