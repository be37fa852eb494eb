// One request of a batch, run through the same parsing, file resolution and answer logic as an
// online generateContent call, so images, tokens and errors come out the same. Faults and
// latency are not drawn here: they model the online front end.
import type { RpcStatus } from "../errors.ts";
import { EmulatorApiError } from "../errors.ts";
import type { UrlFetchOptions } from "../fetch-url.ts";
import { prepareFileResolver } from "../files/resolve.ts";
import type { FileStore } from "../files/store.ts";
import type { GenerateContentResponse } from "../generate.ts";
import { generateContent, type ModelCall } from "../generate.ts";
import type { ServedModel } from "../options.ts";
import { parseGenerateContentRequest } from "../request.ts";

export interface ModelRunnerDeps {
  models: ReadonlyMap<string, ServedModel>;
  files: FileStore;
  urlFetch: UrlFetchOptions | undefined;
  /** Sight's options (the mask format): batch answers look like online ones. */
  sight?: ModelCall["sight"];
}

export type ModelRunner = (
  owner: string,
  model: string,
  request: unknown,
  ownHosts: readonly string[],
) => Promise<GenerateContentResponse>;

export function createModelRunner(deps: ModelRunnerDeps): ModelRunner {
  return async (owner, model, request, ownHosts) => {
    const served = deps.models.get(model);
    if (served === undefined) throw new Error(`batch for unserved model ${model}`);
    const resolveFile = await prepareFileResolver(request, {
      store: deps.files,
      owner,
      ownHosts,
      urlFetch: deps.urlFetch,
    });
    const parsed = parseGenerateContentRequest(request, { model, maxImages: served.maxImages, resolveFile });
    const { response } = await generateContent(parsed, {
      model,
      rule: served.rule,
      ...(deps.sight ? { sight: deps.sight } : {}),
    });
    return response;
  };
}

/** google.rpc.Status as it appears inside resources and batch results: the gRPC code, not the HTTP one. */
export interface StatusJson {
  code: number;
  message: string;
  details?: unknown[];
}

const GRPC_CODES: Record<RpcStatus, number> = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

export function statusOf(error: unknown): StatusJson {
  if (error instanceof EmulatorApiError) {
    const { status, message, details } = error.body.error;
    return { code: GRPC_CODES[status], message, ...(details.length > 0 ? { details } : {}) };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return { code: GRPC_CODES.INTERNAL, message: `An internal error has occurred. (emulator: ${reason})` };
}
