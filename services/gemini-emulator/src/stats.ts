// Counters a test or benchmark reads to check what the emulator was asked and what it billed.

export type RouteName = "generateContent" | "countTokens" | "unmatched";

export interface EmulatorStats {
  requests: number;
  byRoute: Record<RouteName, number>;
  /** HTTP status -> requests. */
  byStatus: Record<number, number>;
  byRouteAndStatus: Record<RouteName, Record<number, number>>;
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
  stats.byRoute[route] += 1;
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  const routeStatus = stats.byRouteAndStatus[route];
  routeStatus[status] = (routeStatus[status] ?? 0) + 1;
  if (apiVersion !== undefined) stats.byApiVersion[apiVersion] = (stats.byApiVersion[apiVersion] ?? 0) + 1;
}
