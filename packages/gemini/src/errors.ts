import { ApiError } from "@google/genai";
import { TesseraError } from "@tessera/core";

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { "@type"?: string; retryDelay?: string }[];
  };
}

/** "19s", "0.5s", "1.250s" (protobuf Duration JSON) to milliseconds. */
export function parseRetryDelay(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

function parseBody(message: string): GoogleErrorBody["error"] {
  try {
    const body = JSON.parse(message) as GoogleErrorBody;
    return body.error;
  } catch {
    return undefined;
  }
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "UND_ERR_SOCKET",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/**
 * Maps whatever the SDK threw to Tessera's error classes. The SDK's ApiError carries the HTTP
 * status and the JSON body as its message; the body's RetryInfo tells how long a 429 lasts.
 */
export function classifyGeminiError(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  if (err instanceof ApiError) {
    const body = parseBody(err.message);
    const summary = `Gemini ${err.status}${body?.status ? ` ${body.status}` : ""}: ${body?.message ?? err.message}`;
    if (err.status === 429) {
      const retryInfo = body?.details?.find((d) => d["@type"]?.endsWith("google.rpc.RetryInfo"));
      const retryDelayMs = parseRetryDelay(retryInfo?.retryDelay);
      return new TesseraError(
        "rate_limited",
        summary,
        retryDelayMs === undefined ? { cause: err } : { cause: err, retryDelayMs },
      );
    }
    if (err.status === 408 || err.status >= 500)
      return new TesseraError("transient", summary, { cause: err });
    return new TesseraError("permanent", summary, { cause: err });
  }
  const code = networkCode(err);
  if (code !== undefined)
    return new TesseraError("transient", `network error talking to Gemini: ${code}`, { cause: err });
  if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) {
    return new TesseraError("transient", "Gemini request timed out", { cause: err });
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new TesseraError("transient", `network error talking to Gemini: ${err.message}`, { cause: err });
  }
  return new TesseraError("transient", `unexpected error calling Gemini: ${String(err)}`, { cause: err });
}
