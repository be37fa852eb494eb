import type { GoogleGenAI } from "@google/genai";
import type { Logger } from "@tessera/core";
import type { Producer, RunStore } from "@tessera/queue";
import type { Storage } from "@tessera/storage";

/** Everything a handler touches outside its own memory, injected so handlers are plain functions. */
export interface WorkerDeps {
  runs: RunStore;
  producer: Producer;
  gemini: GoogleGenAI;
  /** Opens (and caches) the storage behind a location URI. */
  storage: (uri: string) => Storage;
  log: Logger;
  maxImageBytes: number;
  now: () => Date;
}
