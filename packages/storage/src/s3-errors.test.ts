import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  LocationNotFoundError,
  ObjectNotFoundError,
  PreconditionFailedError,
  StorageError,
} from "./errors.ts";
import type { S3ErrorContext } from "./s3-errors.ts";
import { mapS3Error } from "./s3-errors.ts";

/** The shape of the SDK's S3ServiceException as RGW produces it (no Message in the body). */
function sdkError(name: string, status: number | undefined, message = "UnknownError"): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const context: S3ErrorContext = {
  where: "s3://bucket/photos/a.jpg",
  root: "s3://bucket/photos",
  doing: "reading",
  endpoint: "http://127.0.0.1:7480",
};

describe("mapS3Error", () => {
  it("maps NoSuchBucket to LocationNotFoundError on the root", () => {
    const error = mapS3Error(sdkError("NoSuchBucket", 404), context);
    expect(error).toBeInstanceOf(LocationNotFoundError);
    expect(error.message).toBe("s3://bucket/photos: the bucket does not exist at http://127.0.0.1:7480");
  });

  it("maps a missing key to ObjectNotFoundError, or to a failed If-Match on put", () => {
    expect(mapS3Error(sdkError("NoSuchKey", 404), context)).toBeInstanceOf(ObjectNotFoundError);
    expect(mapS3Error(sdkError("NotFound", 404), context)).toBeInstanceOf(ObjectNotFoundError);
    const put = mapS3Error(sdkError("NoSuchKey", 404), {
      ...context,
      condition: "If-Match abc",
      missingIsPrecondition: true,
    });
    expect(put).toBeInstanceOf(PreconditionFailedError);
    expect(put.message).toBe(
      "s3://bucket/photos/a.jpg: precondition failed (If-Match abc: the key does not exist)",
    );
  });

  it("maps 412 and AWS's conditional-write conflict to PreconditionFailedError", () => {
    const failed = mapS3Error(sdkError("PreconditionFailed", 412), {
      ...context,
      condition: "If-None-Match *",
    });
    expect(failed).toBeInstanceOf(PreconditionFailedError);
    expect((failed as PreconditionFailedError).condition).toBe("If-None-Match *");
    const conflict = mapS3Error(sdkError("ConditionalRequestConflict", 409, "busy"), {
      ...context,
      condition: "c",
    });
    expect(conflict).toBeInstanceOf(PreconditionFailedError);
  });

  it("maps every 403 to AccessDeniedError naming the S3 code", () => {
    for (const name of ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"]) {
      const error = mapS3Error(sdkError(name, 403), context);
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect(error.message).toBe(
        `s3://bucket/photos/a.jpg: access denied (reading at http://127.0.0.1:7480: ${name})`,
      );
    }
  });

  it("wraps anything else in a StorageError that names the object", () => {
    const network = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7480"), { code: "ECONNREFUSED" });
    const error = mapS3Error(network, context);
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toBe(
      "s3://bucket/photos/a.jpg: reading failed at http://127.0.0.1:7480: connect ECONNREFUSED 127.0.0.1:7480",
    );
    expect(error.cause).toBe(network);
    expect(mapS3Error(sdkError("InternalError", 500), context).message).toBe(
      "s3://bucket/photos/a.jpg: reading failed at http://127.0.0.1:7480: InternalError (HTTP 500)",
    );
  });

  it("lets aborts through untouched", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    expect(mapS3Error(abort, context)).toBe(abort);
  });
});
