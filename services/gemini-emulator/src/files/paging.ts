// List pages for files and batches: newest first, with opaque tokens that name the last item shown
// (by its creation sequence), so deleting items between calls neither repeats nor skips any.
import { invalidArgument } from "../errors.ts";

export interface PageRequest {
  pageSize: number;
  /** Show only items created before this sequence number. */
  before: number | undefined;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
}

export function parsePageRequest(
  query: URLSearchParams,
  limits: { defaultSize: number; maxSize: number },
): PageRequest {
  const sizeText = query.get("pageSize") ?? query.get("page_size");
  let pageSize = limits.defaultSize;
  if (sizeText !== null && sizeText !== "") {
    const size = Number(sizeText);
    if (!Number.isInteger(size) || size < 0) {
      throw invalidArgument(`Invalid value at 'page_size' (TYPE_INT32), "${sizeText}"`);
    }
    // Like the API: 0 means the default, anything above the maximum is clamped to it.
    if (size > 0) pageSize = Math.min(size, limits.maxSize);
  }
  const token = query.get("pageToken") ?? query.get("page_token");
  if (token === null || token === "") return { pageSize, before: undefined };
  const match = /^after:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!match) throw invalidArgument("Invalid page token.");
  return { pageSize, before: Number(match[1]) };
}

/** `items` must be sorted newest (highest seq) first. */
export function paginate<T extends { seq: number }>(items: readonly T[], request: PageRequest): Page<T> {
  const { before } = request;
  const remaining = before === undefined ? items : items.filter((item) => item.seq < before);
  const shown = remaining.slice(0, request.pageSize);
  const last = shown.at(-1);
  const more = remaining.length > shown.length && last !== undefined;
  return {
    items: shown,
    nextPageToken: more ? Buffer.from(`after:${last.seq}`).toString("base64url") : undefined,
  };
}
