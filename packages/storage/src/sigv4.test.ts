import { describe, expect, it } from "vitest";
import { amzDate, encodeKeyPath, SigV4Signer } from "./sigv4.ts";

// AWS's worked example "GET Object" (Signature Version 4, Authorization header):
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
const EXAMPLE = {
  credentials: {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  },
  emptySha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  at: new Date("2013-05-24T00:00:00Z"),
};

describe("SigV4Signer", () => {
  it("signs AWS's GET Object example to the documented signature", () => {
    const headers = new SigV4Signer("us-east-1", "s3").sign(
      {
        method: "GET",
        host: "examplebucket.s3.amazonaws.com",
        path: "/test.txt",
        headers: { range: "bytes=0-9", "x-amz-content-sha256": EXAMPLE.emptySha256 },
      },
      EXAMPLE.credentials,
      EXAMPLE.at,
    );
    expect(headers["authorization"]).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    expect(headers["x-amz-date"]).toBe("20130524T000000Z");
    expect(headers["host"]).toBe("examplebucket.s3.amazonaws.com");
  });

  it("signs the session token of temporary credentials and a new key when the secret rotates", () => {
    const signer = new SigV4Signer("us-east-1", "s3");
    const request = { method: "GET", host: "h", path: "/k", headers: {} };
    const a = signer.sign(request, { ...EXAMPLE.credentials, sessionToken: "tok" }, EXAMPLE.at);
    expect(a["x-amz-security-token"]).toBe("tok");
    expect(a["authorization"]).toContain(
      "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,",
    );
    expect(a["x-amz-content-sha256"]).toBe("UNSIGNED-PAYLOAD");
    const b = signer.sign(request, { ...EXAMPLE.credentials, sessionToken: "tok" }, EXAMPLE.at);
    expect(b["authorization"]).toBe(a["authorization"]);
    const rotated = signer.sign(
      request,
      { ...EXAMPLE.credentials, secretAccessKey: "another", sessionToken: "tok" },
      EXAMPLE.at,
    );
    expect(rotated["authorization"]).not.toBe(a["authorization"]);
    const nextDay = signer.sign(
      request,
      { ...EXAMPLE.credentials, sessionToken: "tok" },
      new Date("2013-05-25T00:00:00Z"),
    );
    expect(nextDay["authorization"]).toContain("/20130525/us-east-1/s3/aws4_request");
  });

  it("formats x-amz-date without separators or milliseconds", () => {
    expect(amzDate(new Date("2026-12-05T01:02:03.456Z"))).toBe("20261205T010203Z");
  });
});

describe("encodeKeyPath", () => {
  it("encodes each segment like the SDK and keeps the slashes, empty segments included", () => {
    expect(encodeKeyPath("photos/2024/a b+c.jpg")).toBe("photos/2024/a%20b%2Bc.jpg");
    expect(encodeKeyPath("a//b")).toBe("a//b");
    expect(encodeKeyPath("it's (1)*!.jpg")).toBe("it%27s%20%281%29%2A%21.jpg");
    expect(encodeKeyPath("ảnh/ß~_-.png")).toBe("%E1%BA%A3nh/%C3%9F~_-.png");
    expect(encodeKeyPath("q?x=1&y#z")).toBe("q%3Fx%3D1%26y%23z");
  });
});
