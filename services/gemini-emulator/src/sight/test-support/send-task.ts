// Test support: one Tessera task request as the worker makes it (prepareImage, then the task's
// own request through the real SDK), parsed by the task's own parser. Not used by the emulator.
import type { GoogleGenAI, Part } from "@google/genai";
import { createPartFromBase64 } from "@google/genai";
import type { Detail, PreparedImage } from "@tessera/imaging";
import { prepareImage } from "@tessera/imaging";
import type { BoundTask, ParseOutcome, TaskName, TaskRequest, TaskResult } from "@tessera/tasks";
import { bindTask } from "@tessera/tasks";

export const SIGHT_MODEL = "gemini-2.5-flash";

export interface Sent {
  request: TaskRequest;
  /** The answer text as the SDK returned it. */
  text: string;
  finishReason: string | undefined;
  outcome: ParseOutcome<TaskResult>;
}

export function prepare(bytes: Buffer, detail: Detail = "standard"): Promise<PreparedImage> {
  return prepareImage(bytes, { detail, convert: "convert" });
}

export async function sendTask(
  ai: GoogleGenAI,
  name: TaskName,
  options: unknown,
  images: readonly PreparedImage[],
  headers: Record<string, string> = {},
): Promise<Sent> {
  const task: BoundTask = bindTask(name, options, SIGHT_MODEL);
  const request = task.build(images.length);
  const parts: Part[] = request.parts.map((part) =>
    part.kind === "text"
      ? { text: part.text }
      : createPartFromBase64(images[part.index]!.bytes.toString("base64"), images[part.index]!.mime),
  );
  const response = await ai.models.generateContent({
    model: SIGHT_MODEL,
    contents: [{ role: "user", parts }],
    config: { ...request.generationConfig, maxOutputTokens: 60_000, httpOptions: { headers } },
  });
  const text = response.text ?? "";
  const finishReason = response.candidates?.[0]?.finishReason;
  const outcome = await task.parse(
    { text, finishReason },
    { images: images.map((image, i) => ({ label: `image-${i + 1}`, transform: image.transform })) },
  );
  return { request, text, finishReason, outcome };
}
