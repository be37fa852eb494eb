// Error bodies in the shape Google's APIs return (google.rpc.Status as JSON), with the messages the
// real Gemini API uses where they are known, so client code is tested against what it will meet.

export type RpcStatus =
  | "INVALID_ARGUMENT"
  | "FAILED_PRECONDITION"
  | "PERMISSION_DENIED"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "RESOURCE_EXHAUSTED"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED";

export type ErrorDetail = { "@type": string } & Record<string, unknown>;

export interface ApiErrorBody {
  error: { code: number; message: string; status: RpcStatus; details: ErrorDetail[] };
}

const STATUS_BY_CODE = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
} as const satisfies Record<number, RpcStatus>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

/** Thrown inside request handling; the server turns it into the HTTP answer. */
export class EmulatorApiError extends Error {
  readonly code: ErrorCode;
  readonly body: ApiErrorBody;

  /** `status` overrides the code's usual one where the API pairs them differently (400 FAILED_PRECONDITION). */
  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = [], status?: RpcStatus) {
    super(message);
    this.name = "EmulatorApiError";
    this.code = code;
    // Google leaves `details` out when empty; we always send the array so every error body has
    // one shape that callers can rely on.
    this.body = { error: { code, message, status: status ?? STATUS_BY_CODE[code], details } };
  }
}

const TROUBLESHOOTING =
  "Please retry or report in https://developers.generativeai.google/guide/troubleshooting";
const SERVICE = "generativelanguage.googleapis.com";

export interface FieldViolation {
  field: string;
  description: string;
}

export function badRequestDetail(violations: FieldViolation[]): ErrorDetail {
  return { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: violations };
}

export function invalidArgument(message: string, violation?: FieldViolation): EmulatorApiError {
  return new EmulatorApiError(400, message, violation ? [badRequestDetail([violation])] : []);
}

export function missingApiKey(): EmulatorApiError {
  return new EmulatorApiError(
    403,
    "Method doesn't allow unregistered callers (callers without established identity). " +
      "Please use API Key or other form of API consumer identity to call this API.",
  );
}

export function invalidApiKey(): EmulatorApiError {
  const message = "API key not valid. Please pass a valid API key.";
  return new EmulatorApiError(400, message, [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: SERVICE },
    },
    { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message },
  ]);
}

export function modelNotFound(model: string, apiVersion: string, method: string): EmulatorApiError {
  return new EmulatorApiError(
    404,
    `models/${model} is not found for API version ${apiVersion}, or is not supported for ${method}. ` +
      "Call ListModels to see the list of available models and their supported methods.",
  );
}

export function routeNotFound(method: string, path: string): EmulatorApiError {
  return new EmulatorApiError(
    404,
    `Method not found: ${method} ${path}. This emulator serves /{v1,v1beta}/models/{model}:generateContent, ` +
      ":countTokens and :batchGenerateContent, files, upload/{v1,v1beta}/files and batches (see its README).",
  );
}

export function unsupportedMimeType(mimeType: string, field: string): EmulatorApiError {
  return invalidArgument(`Unsupported MIME type: ${mimeType}`, {
    field,
    description: "Supported image types: image/png, image/jpeg, image/webp, image/heic, image/heif.",
  });
}

/** The real API gives this one message for bytes that are not the declared type and for corrupt images. */
export function unprocessableImage(field: string, reason: string): EmulatorApiError {
  return invalidArgument(`Unable to process input image. ${TROUBLESHOOTING}`, { field, description: reason });
}

export function payloadTooLarge(limitBytes: number): EmulatorApiError {
  return new EmulatorApiError(400, `Request payload size exceeds the limit: ${limitBytes} bytes.`);
}

export function quotaExceeded(model: string, retryDelaySeconds: number): EmulatorApiError {
  const metric = `${SERVICE}/generate_content_free_tier_requests`;
  const delay = formatDuration(retryDelaySeconds);
  return new EmulatorApiError(
    429,
    "You exceeded your current quota, please check your plan and billing details. For more information on " +
      "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n" +
      `* Quota exceeded for metric: ${metric}, limit: 10, model: ${model}\nPlease retry in ${delay}.`,
    [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: metric,
            quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            quotaDimensions: { location: "global", model },
            quotaValue: "10",
          },
        ],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: delay },
    ],
  );
}

export function overloaded(): EmulatorApiError {
  return new EmulatorApiError(503, "The model is overloaded. Please try again later.");
}

export function internalError(cause?: string): EmulatorApiError {
  const message = `An internal error has occurred. ${TROUBLESHOOTING}`;
  return new EmulatorApiError(500, cause === undefined ? message : `${message} (emulator: ${cause})`);
}

export function deadlineExceeded(): EmulatorApiError {
  return new EmulatorApiError(504, "Deadline expired before operation could complete.");
}

/** google.protobuf.Duration in JSON: seconds with an "s" suffix, fractions allowed. */
export function formatDuration(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}
