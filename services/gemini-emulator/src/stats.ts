// Counters a test or benchmark reads to check what the emulator was asked and what it billed.

type CoreRouteName = "generateContent" | "countTokens" | "unmatched";
/** Files, uploads and batches: counted under their name once used, so the core counters keep their shape. */
export type ResourceRouteName = "uploadFile" | "files" | "downloadFile" | "batchGenerateContent" | "batches";
export type RouteName = CoreRouteName | ResourceRouteName;

export interface EmulatorStats {
  requests: number;
  byRoute: Record<CoreRouteName, number> & Partial<Record<ResourceRouteName, number>>;
  /** HTTP status -> requests. */
  byStatus: Record<number, number>;
  byRouteAndStatus: Record<CoreRouteName, Record<number, number>> &
    Partial<Record<ResourceRouteName, Record<number, number>>>;
  /** "v1" / "v1beta" -> requests on a matched route. */
  byApiVersion: Record<string, number>;
  /** Tokens of successful generateContent calls only: errors and countTokens are free. */
  billedPromptTokens: number;
  /** Visible output plus thoughts, as the API bills them. */
  billedOutputTokens: number;
  /** Inline images in requests that passed auth, size, JSON and fault checks, whatever came after. */
  imagesSeen: number;
}

export function createStats(): EmulatorStats {
  return {
    requests: 0,
    byRoute: { generateContent: 0, countTokens: 0, unmatched: 0 },
    byStatus: {},
    byRouteAndStatus: { generateContent: {}, countTokens: {}, unmatched: {} },
    byApiVersion: {},
    billedPromptTokens: 0,
    billedOutputTokens: 0,
    imagesSeen: 0,
  };
}

/** In place, so callers holding `emulator.stats` keep seeing live numbers. */
export function resetStats(stats: EmulatorStats): void {
  Object.assign(stats, createStats());
}

export function recordRequest(
  stats: EmulatorStats,
  route: RouteName,
  apiVersion: string | undefined,
  status: number,
): void {
  stats.requests += 1;
  stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  const routeStatus = (stats.byRouteAndStatus[route] ??= {});
  routeStatus[status] = (routeStatus[status] ?? 0) + 1;
  if (apiVersion !== undefined) stats.byApiVersion[apiVersion] = (stats.byApiVersion[apiVersion] ?? 0) + 1;
}

/**
 * What the emulator did on purpose, kept apart from the traffic counters above so their shape stays
 * what existing callers compare against.
 */
export interface OperationStats {
  /** 429s from rate limits (not injected ones), and how often each limit was the reason. */
  rateLimited: { requests: number; rpm: number; tpm: number; rpd: number };
  /** Injected faults by name ("503", "reset", "block", "fence", ...). */
  faultsInjected: Record<string, number>;
  /** 400s for a prompt over the context window or a maxOutputTokens over the model's limit. */
  tokenLimitRejections: number;
}

export function createOperationStats(): OperationStats {
  return {
    rateLimited: { requests: 0, rpm: 0, tpm: 0, rpd: 0 },
    faultsInjected: {},
    tokenLimitRejections: 0,
  };
}

export function resetOperationStats(stats: OperationStats): void {
  Object.assign(stats, createOperationStats());
}

export function recordRateLimited(stats: OperationStats, kinds: readonly ("rpm" | "tpm" | "rpd")[]): void {
  stats.rateLimited.requests += 1;
  for (const kind of kinds) stats.rateLimited[kind] += 1;
}

export function recordFaults(stats: OperationStats, names: readonly string[]): void {
  for (const name of names) stats.faultsInjected[name] = (stats.faultsInjected[name] ?? 0) + 1;
}
