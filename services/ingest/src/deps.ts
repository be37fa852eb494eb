import { loadConfig, type RequestLimits } from "@tessera/config";
import type { Logger } from "@tessera/core";
import type { Producer, RunStore } from "@tessera/queue";
import type { Storage } from "@tessera/storage";

export type { RequestLimits };

export interface IngestDeps {
  runs: RunStore;
  producer: Producer;
  storage: (uri: string) => Storage;
  log: Logger;
  now: () => Date;
  /** Request limits per model (Config.requestLimits); default: the model's published figures. */
  requestLimits?: (model: string) => RequestLimits;
  /** Header reads in flight while scanning (TESSERA_PROBE_CONCURRENCY); a run's own value wins. */
  probeConcurrency?: number;
}

/** The published figures and default settings, for callers that pass no configuration. */
export const defaultRequestLimits: (model: string) => RequestLimits = (model) =>
  loadConfig({}).requestLimits(model);
