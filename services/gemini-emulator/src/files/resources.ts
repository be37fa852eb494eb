// Everything beyond the two model methods, wired once per emulator: the file store and its routes,
// URL fetching for fileData parts, and batch mode (which reads files and writes result files).
import { createModelRunner } from "../batches/execute.ts";
import { batchRoutes } from "../batches/routes.ts";
import type { BatchOptions } from "../batches/store.ts";
import { BatchStore } from "../batches/store.ts";
import type { UrlFetchOptions } from "../fetch-url.ts";
import { URL_FETCH_DEFAULTS } from "../fetch-url.ts";
import type { ServedModel } from "../options.ts";
import type { ModelCall } from "../generate.ts";
import type { FileResolver } from "../request.ts";
import type { Clock } from "./clock.ts";
import type { ResourceRoute } from "./http.ts";
import { ownHostsOf, prepareFileResolver } from "./resolve.ts";
import { fileRoutes } from "./routes.ts";
import type { FilesOptions } from "./store.ts";
import { FileStore } from "./store.ts";

export interface ResourceOptions {
  files?: FilesOptions;
  batches?: BatchOptions;
  /** Fetch http(s) URLs given as fileData.fileUri. Default true. */
  allowUrlFetch?: boolean;
  urlFetchTimeoutMs?: number;
  sight?: ModelCall["sight"];
}

export interface Resources {
  files: FileStore;
  batches: BatchStore;
  routes: ResourceRoute[];
  /** Fetches the body's URLs, then resolves its fileData parts for the request parser. */
  fileResolver(body: unknown, apiKey: string, baseUrl: string): Promise<FileResolver>;
}

export function createResources(deps: {
  options: ResourceOptions;
  clock: Clock;
  models: ReadonlyMap<string, ServedModel>;
  maxRequestBytes: number;
  /** The emulator's base URL once it listens. */
  selfUrl: () => string;
}): Resources {
  const { options } = deps;
  const files = new FileStore(deps.clock, options.files);
  const timeoutMs = options.urlFetchTimeoutMs ?? URL_FETCH_DEFAULTS.timeoutMs;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`urlFetchTimeoutMs must be a number > 0, got ${timeoutMs}`);
  }
  const urlFetch: UrlFetchOptions | undefined =
    options.allowUrlFetch === false ? undefined : { timeoutMs, maxBytes: files.limits.maxFileBytes };
  const batches = new BatchStore(
    deps.clock,
    files,
    createModelRunner({
      models: deps.models,
      files,
      urlFetch,
      ...(options.sight ? { sight: options.sight } : {}),
    }),
    options.batches,
  );
  return {
    files,
    batches,
    routes: [
      ...fileRoutes(files),
      ...batchRoutes({
        batches,
        files,
        models: deps.models,
        maxRequestBytes: deps.maxRequestBytes,
        selfUrl: deps.selfUrl,
      }),
    ],
    fileResolver: (body, apiKey, baseUrl) =>
      prepareFileResolver(body, {
        store: files,
        owner: apiKey,
        ownHosts: ownHostsOf(baseUrl, deps.selfUrl()),
        urlFetch,
      }),
  };
}
