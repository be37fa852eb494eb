// Batch mode's HTTP surface: batchGenerateContent, and the batches collection (get, list, cancel, delete).
import { invalidArgument, modelNotFound } from "../errors.ts";
import type { ResourceRoute, RouteContext } from "../files/http.ts";
import { parsePageRequest } from "../files/paging.ts";
import { fileIdOf, ownHostsOf } from "../files/resolve.ts";
import type { FileStore } from "../files/store.ts";
import type { ServedModel } from "../options.ts";
import { countJsonlLines, parseBatchCreate } from "./input.ts";
import type { BatchSource, BatchStore } from "./store.ts";
import { BATCH_DEFAULTS } from "./store.ts";
import { batchOperation } from "./operation.ts";

export interface BatchRouteDeps {
  batches: BatchStore;
  files: FileStore;
  models: ReadonlyMap<string, ServedModel>;
  /** Limit on the create call's body, inline requests included. */
  maxRequestBytes: number;
  /** The emulator's own base URL, known once it listens. */
  selfUrl: () => string;
}

export function batchRoutes(deps: BatchRouteDeps): ResourceRoute[] {
  const { batches, files } = deps;
  const view = async (context: RouteContext, id: string) => {
    const batch = batches.get(context.apiKey(), id);
    await batches.settle(batch);
    return batchOperation(batch, batches);
  };
  return [
    {
      name: "batchGenerateContent",
      method: "POST",
      pattern: /^\/(v1|v1beta)\/models\/([^/:]+):batchGenerateContent$/,
      model: (params) => params[1],
      async handle(context) {
        const owner = context.apiKey();
        const body = await context.readJson(deps.maxRequestBytes);
        const [apiVersion = "", model = ""] = context.params;
        if (!deps.models.has(model)) throw modelNotFound(model, apiVersion, "batchGenerateContent");
        const { displayName, input } = parseBatchCreate(body);
        const ownHosts = ownHostsOf(context.baseUrl, deps.selfUrl());
        let source: BatchSource;
        let requestCount: number;
        if (input.kind === "inline") {
          source = input;
          requestCount = input.requests.length;
        } else {
          const file = files.getActive(owner, fileIdOf(input.fileName, ownHosts));
          requestCount = countJsonlLines(file.bytes);
          if (requestCount === 0)
            throw invalidArgument(`The input file ${input.fileName} holds no requests.`);
          // A snapshot: deleting the file after creating the batch does not change the batch.
          source = { kind: "file", fileName: `files/${file.id}`, bytes: file.bytes };
        }
        const batch = batches.create({ owner, model, displayName, source, requestCount, ownHosts });
        return { body: batchOperation(batch, batches) };
      },
    },
    {
      name: "batches",
      method: "GET",
      pattern: /^\/(v1|v1beta)\/batches$/,
      async handle(context) {
        const page = batches.list(
          context.apiKey(),
          parsePageRequest(context.url.searchParams, {
            defaultSize: BATCH_DEFAULTS.pageSize,
            maxSize: BATCH_DEFAULTS.maxPageSize,
          }),
        );
        for (const batch of page.items) await batches.settle(batch);
        return {
          body: {
            ...(page.items.length > 0
              ? { operations: page.items.map((batch) => batchOperation(batch, batches)) }
              : {}),
            ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
          },
        };
      },
    },
    {
      name: "batches",
      method: "GET",
      pattern: /^\/(v1|v1beta)\/batches\/([^/:]+)$/,
      handle: async (context) => ({ body: await view(context, context.params[1]!) }),
    },
    {
      name: "batches",
      method: "POST",
      pattern: /^\/(v1|v1beta)\/batches\/([^/:]+):cancel$/,
      async handle(context) {
        await batches.cancel(context.apiKey(), context.params[1]!);
        return { body: {} };
      },
    },
    {
      name: "batches",
      method: "DELETE",
      pattern: /^\/(v1|v1beta)\/batches\/([^/:]+)$/,
      handle(context) {
        batches.delete(context.apiKey(), context.params[1]!);
        return Promise.resolve({ body: {} });
      },
    },
  ];
}
