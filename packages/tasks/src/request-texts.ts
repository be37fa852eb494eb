import type { TaskRequest } from "./contract.ts";

/** Every text a request sends (system instruction, labels, prompt): what text tokens are counted over. */
export function requestTexts(request: TaskRequest): string[] {
  const texts = request.parts.flatMap((part) => (part.kind === "text" ? [part.text] : []));
  return request.systemInstruction === undefined ? texts : [request.systemInstruction, ...texts];
}
