import type { Logger } from "@tessera/core";
import type { Producer, RunStore } from "@tessera/queue";
import type { Storage } from "@tessera/storage";

export interface IngestDeps {
  runs: RunStore;
  producer: Producer;
  storage: (uri: string) => Storage;
  log: Logger;
  now: () => Date;
}
