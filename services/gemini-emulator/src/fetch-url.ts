// Fetching http(s) URLs given as fileData.fileUri (public or pre-signed links, a January 2026 API
// feature). The query string of such a URL is a signature: it is never logged or echoed back.

export interface UrlFetchOptions {
  /** Time for the whole fetch, body included. */
  timeoutMs: number;
  /** Larger answers are refused; the Files API's per-file limit. */
  maxBytes: number;
}

export const URL_FETCH_DEFAULTS = { timeoutMs: 10_000 } as const;

export type FetchOutcome =
  { ok: true; bytes: Buffer; contentType: string | undefined } | { ok: false; reason: string };

/** Scheme, host and path only: no user info, query or fragment, which may carry credentials. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Never throws: the reason it gives is safe to show, as it names no part of the URL. */
export async function fetchUrl(url: URL, options: UrlFetchOptions): Promise<FetchOutcome> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await fetch(url, { signal, redirect: "follow" });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: `the server answered HTTP ${response.status}` };
    }
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > options.maxBytes) {
      await response.body?.cancel();
      return { ok: false, reason: tooLarge(options.maxBytes) };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body !== null) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        // Leaving the loop early cancels the stream, so the rest is never downloaded.
        if (size > options.maxBytes) return { ok: false, reason: tooLarge(options.maxBytes) };
        chunks.push(chunk);
      }
    }
    const contentType = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    return { ok: true, bytes: Buffer.concat(chunks), contentType: contentType || undefined };
  } catch (error) {
    if (signal.aborted) return { ok: false, reason: `no complete answer within ${options.timeoutMs} ms` };
    return { ok: false, reason: `the connection failed (${networkCode(error)})` };
  }
}

function tooLarge(maxBytes: number): string {
  return `the file is larger than the ${maxBytes}-byte limit`;
}

/** undici wraps the system error: its code (ECONNREFUSED, ENOTFOUND...) names the problem without the URL. */
function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return "network error";
}
