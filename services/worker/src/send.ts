import {
  contentHash,
  FilesQuotaError,
  generate,
  imagePart,
  inlinePart,
  inlineRequestBytes,
  isFileUnavailable,
  type GenerateResult,
  type ImageRequestPart,
} from "@tessera/gemini";
import type { PreparedImage } from "@tessera/imaging";
import { TesseraError } from "@tessera/core";
import type { RunState } from "@tessera/queue";
import type { TaskRequest } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";

export type Transport = "inline" | "files" | "url";

/** Pre-signed URLs live long enough for Gemini to fetch them, not much longer. */
const URL_TTL_SECONDS = 15 * 60;

export interface Sent {
  answer: GenerateResult;
  transport: Transport;
  warnings: string[];
}

/**
 * Picks how the image travels. "auto" sends it inline when the request stays under the inline
 * limit, else through the Files API. "url" hands Gemini a pre-signed URL of the source object,
 * which only works when the original bytes go out unchanged from S3; otherwise it falls back.
 */
export async function choosePart(
  deps: WorkerDeps,
  run: RunState,
  key: string,
  image: PreparedImage,
): Promise<{ part: ImageRequestPart; transport: Transport; warnings: string[] }> {
  const warnings: string[] = [];
  const fits = inlineRequestBytes(image.bytes.length) <= deps.maxImageBytes;
  let transport: Transport =
    run.transport === "auto" ? (fits || !deps.files ? "inline" : "files") : run.transport;
  let presignedUrl: string | undefined;
  if (transport === "url") {
    presignedUrl = image.reencoded
      ? undefined
      : await deps.storage(run.source).presignGet(key, URL_TTL_SECONDS);
    if (presignedUrl === undefined) {
      transport = fits || !deps.files ? "inline" : "files";
      warnings.push(
        image.reencoded
          ? `sent ${transport}, not by URL: the image was rotated, resized or converted first`
          : `sent ${transport}, not by URL: the source storage cannot give a pre-signed URL`,
      );
    }
  }
  if (transport === "files" && !deps.files) throw new Error("transport files needs a Files API cache");
  if (transport === "inline" && !fits) {
    throw new TesseraError(
      "bad_image",
      `image of ${image.bytes.length} bytes is too large to send inline (limit ${deps.maxImageBytes}); use --transport auto or files`,
    );
  }
  try {
    const part = await imagePart({
      transport,
      bytes: image.bytes,
      mimeType: image.mime,
      runId: run.runId,
      presignedUrl,
      files: deps.files,
    });
    return { part, transport, warnings };
  } catch (err) {
    // The project's upload quota is full: inline still works for images that fit.
    if (err instanceof FilesQuotaError && fits) {
      warnings.push("sent inline: the Files API storage quota is full");
      return { part: inlinePart(image.bytes, image.mime), transport: "inline", warnings };
    }
    throw err;
  }
}

/**
 * Sends one prepared image with the run's prompt. An uploaded file Gemini no longer has (expired,
 * deleted) is forgotten, uploaded again and the call repeated, once.
 */
export async function sendImage(
  deps: WorkerDeps,
  run: RunState,
  key: string,
  image: PreparedImage,
  task: TaskRequest,
): Promise<Sent> {
  const request = (part: ImageRequestPart) =>
    generate(deps.gemini, {
      model: run.model,
      prompt: task.prompt,
      parts: task.parts,
      ...(task.systemInstruction === undefined ? {} : { systemInstruction: task.systemInstruction }),
      generationConfig: task.generationConfig,
      maxOutputTokens: run.maxOutputTokens,
      images: [part],
    });
  const chosen = await choosePart(deps, run, key, image);
  try {
    return { answer: await request(chosen.part), transport: chosen.transport, warnings: chosen.warnings };
  } catch (err) {
    if (!isFileUnavailable(err) || chosen.transport !== "files" || !deps.files) throw err;
    await deps.files.invalidate(contentHash(image.bytes), err.fileName);
    const again = await choosePart(deps, run, key, image);
    return {
      answer: await request(again.part),
      transport: again.transport,
      warnings: [...again.warnings, "the uploaded file had expired and was uploaded again"],
    };
  }
}
