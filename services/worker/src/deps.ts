import type { GoogleGenAI } from "@google/genai";
import type { ModelPrice } from "@tessera/config";
import type { Logger } from "@tessera/core";
import type { FilesCache } from "@tessera/gemini";
import type { FleetRateLimiter, ImageLeases, Producer, RunStore } from "@tessera/queue";
import type { Storage } from "@tessera/storage";
import type { WorkerMetrics } from "./metrics.ts";

/** Everything a handler touches outside its own memory, injected so handlers are plain functions. */
export interface WorkerDeps {
  runs: RunStore;
  producer: Producer;
  gemini: GoogleGenAI;
  /** Opens (and caches) the storage behind a location URI. */
  storage: (uri: string) => Storage;
  log: Logger;
  /** Shared RPM/TPM/RPD for the whole fleet; absent: only Gemini's own 429s slow us down. */
  limiter?: FleetRateLimiter;
  /** One worker at a time per image; absent: two deliveries of one image may both pay. */
  leases?: ImageLeases;
  /** Uploads for the Files API transport, shared by every worker; absent: inline only. */
  files?: FilesCache;
  /** Largest inline request, base64 included: larger images go through the Files API. */
  maxImageBytes: number;
  /** Largest source object read into memory. */
  maxSourceBytes: number;
  /** USD per million tokens by model prefix, for budgets and the cost shown to users. */
  prices: Readonly<Record<string, ModelPrice>>;
  now: () => Date;
  /** Prometheus counters of this process (metrics.ts); absent: none kept. */
  metrics?: WorkerMetrics;
}
