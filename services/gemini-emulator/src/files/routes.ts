// The Files API's HTTP surface: resumable upload, get, list, delete and download of generated files.
import { fileTooLarge, onlyGeneratedDownloads } from "./errors.ts";
import type { ResourceRoute, RouteContext } from "./http.ts";
import { parsePageRequest } from "./paging.ts";
import { fileResource } from "./resource.ts";
import { FILES_DEFAULTS } from "./store.ts";
import type { FileStore } from "./store.ts";
import { UploadSessions } from "./upload.ts";
import { invalidArgument } from "../errors.ts";

/** The upload start body is a few hundred bytes of metadata. */
const START_BODY_LIMIT = 1024 * 1024;

export function fileRoutes(store: FileStore): ResourceRoute[] {
  const uploads = new UploadSessions(store);
  const resource = (context: RouteContext, id: string) => {
    const file = store.get(context.apiKey(), id);
    return fileResource(file, store.stateOf(file), context.baseUrl);
  };
  return [
    {
      name: "uploadFile",
      method: "POST",
      pattern: /^\/upload\/(v1|v1beta)\/files$/,
      async handle(context) {
        const uploadId = context.url.searchParams.get("upload_id");
        if (uploadId === null) {
          // Key first: an anonymous caller learns nothing about the body it sent.
          const owner = context.apiKey();
          return uploads.start({
            owner,
            apiVersion: context.params[0]!,
            baseUrl: context.baseUrl,
            headers: context.req.headers,
            body: await context.readJson(START_BODY_LIMIT),
          });
        }
        // Like the real upload URL, the session id is the credential: chunks need no key.
        const body = await context.readBody(store.limits.maxFileBytes);
        if (body.tooLarge) throw fileTooLarge(store.limits.maxFileBytes);
        return uploads.chunk({
          uploadId,
          baseUrl: context.baseUrl,
          headers: context.req.headers,
          bytes: body.bytes,
        });
      },
    },
    {
      name: "files",
      method: "GET",
      pattern: /^\/(v1|v1beta)\/files$/,
      handle(context) {
        const page = store.list(
          context.apiKey(),
          parsePageRequest(context.url.searchParams, {
            defaultSize: FILES_DEFAULTS.pageSize,
            maxSize: FILES_DEFAULTS.maxPageSize,
          }),
        );
        // Proto JSON leaves out empty lists and unset tokens: an empty listing is `{}`.
        return Promise.resolve({
          body: {
            ...(page.items.length > 0
              ? { files: page.items.map((file) => fileResource(file, store.stateOf(file), context.baseUrl)) }
              : {}),
            ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
          },
        });
      },
    },
    {
      name: "files",
      method: "GET",
      pattern: /^\/(v1|v1beta)\/files\/([^/:]+)$/,
      handle: (context) => Promise.resolve({ body: resource(context, context.params[1]!) }),
    },
    {
      name: "files",
      method: "DELETE",
      pattern: /^\/(v1|v1beta)\/files\/([^/:]+)$/,
      handle(context) {
        store.delete(context.apiKey(), context.params[1]!);
        return Promise.resolve({ body: {} });
      },
    },
    {
      // The SDK asks /{version}/files/{id}:download; the API's own downloadUri has a /download prefix.
      name: "downloadFile",
      method: "GET",
      pattern: /^\/(?:download\/)?(v1|v1beta)\/files\/([^/:]+):download$/,
      handle(context) {
        const file = store.get(context.apiKey(), context.params[1]!);
        if (context.url.searchParams.get("alt") !== "media") {
          throw invalidArgument("Downloading a file needs ?alt=media.");
        }
        if (file.source !== "GENERATED") throw onlyGeneratedDownloads();
        return Promise.resolve({ body: file.bytes, contentType: file.mimeType });
      },
    },
  ];
}
