// Errors of the batch routes.
import { EmulatorApiError } from "../errors.ts";

/** Google's generic NOT_FOUND wording; also for a batch another API key created. */
export function batchNotFound(): EmulatorApiError {
  return new EmulatorApiError(404, "Requested entity was not found.");
}
