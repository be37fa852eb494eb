import {
  chooseTransport,
  contentHash,
  FilesQuotaError,
  generate,
  imagePart,
  inlinePart,
  inlineRequestBytes,
  isFileUnavailable,
  requestTransports,
  type GenerateResult,
  type ImageRequestPart,
  type ImageTransport,
} from "@tessera/gemini";
import type { PreparedImage } from "@tessera/imaging";
import { TesseraError } from "@tessera/core";
import type { RunState } from "@tessera/queue";
import type { TaskRequest } from "@tessera/tasks";
import type { WorkerDeps } from "./deps.ts";

export type Transport = ImageTransport;

/** Pre-signed URLs live long enough for Gemini to fetch them, not much longer. */
const URL_TTL_SECONDS = 15 * 60;

/** One prepared image of a request. */
export interface OutgoingImage {
  key: string;
  image: PreparedImage;
  /** Requests of the run that send it (from the plan); above 1, "auto" uploads it once. */
  uses?: number | undefined;
}

export interface Sent {
  answer: GenerateResult;
  /** Per image, in request order: how it travelled, and why not as asked. */
  transports: Transport[];
  warnings: string[][];
}

interface ChosenPart {
  part: ImageRequestPart;
  transport: Transport;
  warnings: string[];
}

/**
 * An image that cannot travel in any request under the run's transport (too big for inline, no
 * Files API to fall back on): it fails alone, before anything is sent.
 */
export function unsendable(deps: WorkerDeps, run: RunState, image: PreparedImage): TesseraError | undefined {
  const transport = chooseTransport(
    { bytes: image.bytes.length },
    run.transport,
    deps.maxImageBytes,
    !!deps.files,
  );
  if (transport !== "inline" || inlineRequestBytes(image.bytes.length) <= deps.maxImageBytes)
    return undefined;
  return new TesseraError(
    "bad_image",
    `image of ${image.bytes.length} bytes is too large to send inline (limit ${deps.maxImageBytes}); use --transport auto or files`,
  );
}

/**
 * Picks how each image travels, by @tessera/gemini's transport rule (the planner's too) over the
 * bytes as sent. "url" hands Gemini a pre-signed URL of the source object, which only works when
 * the original bytes go out unchanged from S3; otherwise that image falls back to the "auto" rule.
 */
async function chooseParts(
  deps: WorkerDeps,
  run: RunState,
  images: readonly OutgoingImage[],
): Promise<ChosenPart[]> {
  const candidates = images.map((i) => ({ bytes: i.image.bytes.length, uses: i.uses }));
  const transports = requestTransports(candidates, run.transport, deps.maxImageBytes, !!deps.files);
  const chosen: ChosenPart[] = [];
  for (const [index, { key, image }] of images.entries()) {
    const warnings: string[] = [];
    let transport = transports[index]!;
    const fallback = () => chooseTransport(candidates[index]!, "auto", deps.maxImageBytes, !!deps.files);
    let presignedUrl: string | undefined;
    if (transport === "url") {
      presignedUrl = image.reencoded
        ? undefined
        : await deps.storage(run.source).presignGet(key, URL_TTL_SECONDS);
      if (presignedUrl === undefined) {
        transport = fallback();
        warnings.push(
          image.reencoded
            ? `sent ${transport}, not by URL: the image was rotated, resized or converted first`
            : `sent ${transport}, not by URL: the source storage cannot give a pre-signed URL`,
        );
      }
    }
    if (transport === "files" && !deps.files) throw new Error("transport files needs a Files API cache");
    const fits = inlineRequestBytes(image.bytes.length) <= deps.maxImageBytes;
    try {
      const part = await imagePart({
        transport,
        bytes: image.bytes,
        mimeType: image.mime,
        runId: run.runId,
        presignedUrl,
        files: deps.files,
      });
      chosen.push({ part, transport, warnings });
    } catch (err) {
      // The project's upload quota is full: inline still works for images that fit.
      if (!(err instanceof FilesQuotaError && fits)) throw err;
      warnings.push("sent inline: the Files API storage quota is full");
      chosen.push({ part: inlinePart(image.bytes, image.mime), transport: "inline", warnings });
    }
  }
  return chosen;
}

/**
 * Sends one request: its prepared images with the task's prompt. An uploaded file Gemini no
 * longer has (expired, deleted) is forgotten, uploaded again and the call repeated, once.
 */
export async function sendRequest(
  deps: WorkerDeps,
  run: RunState,
  images: readonly OutgoingImage[],
  task: TaskRequest,
): Promise<Sent> {
  const call = (parts: readonly ChosenPart[]) =>
    generate(deps.gemini, {
      model: run.model,
      prompt: task.prompt,
      parts: task.parts,
      ...(task.systemInstruction === undefined ? {} : { systemInstruction: task.systemInstruction }),
      generationConfig: task.generationConfig,
      maxOutputTokens: run.maxOutputTokens,
      images: parts.map((c) => c.part),
    });
  const sent = (answer: GenerateResult, parts: readonly ChosenPart[], extra: string[] = []): Sent => ({
    answer,
    transports: parts.map((c) => c.transport),
    warnings: parts.map((c) => [...c.warnings, ...(c.transport === "files" ? extra : [])]),
  });
  const chosen = await chooseParts(deps, run, images);
  try {
    return sent(await call(chosen), chosen);
  } catch (err) {
    const files = deps.files;
    if (!isFileUnavailable(err) || !files || !chosen.some((c) => c.transport === "files")) throw err;
    for (const [index, c] of chosen.entries()) {
      const uri = "fileData" in c.part ? c.part.fileData.fileUri : "";
      if (c.transport === "files" && (err.fileName === undefined || uri.includes(err.fileName))) {
        await files.invalidate(contentHash(images[index]!.image.bytes), err.fileName);
      }
    }
    const again = await chooseParts(deps, run, images);
    return sent(await call(again), again, ["the uploaded file had expired and was uploaded again"]);
  }
}
