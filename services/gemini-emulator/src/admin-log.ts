// The opt-in request log: one JSON line per API request, in the same shape as Tessera's own logs
// (@tessera/core's logger), so one tool reads both. Headers are left out (the key travels in one)
// and any URL in an error loses its query string, which may be a signature.
import { createLogger } from "@tessera/core";
import type { EmulatorOptions, EmulatorRequestEvent } from "./options.ts";

const URL_QUERY = /\b(https?:\/\/[^\s?#"'<>]+)[?#][^\s"'<>]*/g;

export function requestLogger(
  option: EmulatorOptions["log"],
): ((event: EmulatorRequestEvent) => void) | undefined {
  if (option === undefined || option === false) return undefined;
  const logger = createLogger("info", { service: "gemini-emulator" }, option === true ? undefined : option);
  return (event) => {
    const fields: Record<string, unknown> = {
      method: event.method,
      path: event.path,
      route: event.route,
      apiVersion: event.apiVersion,
      model: event.model,
      status: event.status,
      durationMs: Math.round(event.durationMs * 10) / 10,
    };
    if (event.error !== undefined) fields.error = withoutQueryStrings(event.error);
    if (event.faults !== undefined && event.faults.length > 0) fields.faults = event.faults;
    if (event.rateLimited !== undefined) fields.rateLimited = event.rateLimited;
    if (event.status >= 500) logger.warn("request", fields);
    else logger.info("request", fields);
  };
}

export function withoutQueryStrings(text: string): string {
  return text.replace(URL_QUERY, "$1?<redacted>");
}

/** Both hooks get every event; either may be absent. */
export function bothHooks(
  first: ((event: EmulatorRequestEvent) => void) | undefined,
  second: ((event: EmulatorRequestEvent) => void) | undefined,
): ((event: EmulatorRequestEvent) => void) | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  return (event) => {
    first(event);
    second(event);
  };
}
