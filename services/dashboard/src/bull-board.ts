import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import express from "express";
import type { IncomingMessage, ServerResponse } from "node:http";
import { QUEUE_NAMES, type Producer } from "@tessera/queue";

export const BULL_BOARD_PATH = "/queues";

/**
 * bull-board (queue internals) as a plain Node request handler, mounted under /queues behind
 * the dashboard's own authentication. Read-only unless dashboard actions are enabled.
 */
export function bullBoardHandler(
  producer: Producer,
  options: { readOnly: boolean },
): (req: IncomingMessage, res: ServerResponse) => void {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map(
      (name) => new BullMQAdapter(producer.queue(name), { readOnlyMode: options.readOnly }),
    ),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: "Tessera queues" } },
  });
  const app = express();
  app.disable("x-powered-by");
  app.use(BULL_BOARD_PATH, adapter.getRouter() as express.Router);
  return (req, res) => {
    app(req as express.Request, res as express.Response);
  };
}
