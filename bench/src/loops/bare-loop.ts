// The baseline Tessera is measured against: the least code that does the same work. List the
// prefix, then `BARE_CONCURRENCY` loops of S3 get -> generateContent -> S3 put, no queue, no
// bookkeeping, no image inspection. With BARE_CONCURRENCY=1 it is the guide's sequential example
// (read an image, ask, write the answer, next). Prints one JSON line: images, errors, seconds.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GoogleGenAI } from "@google/genai";
import { bindTask } from "@tessera/tasks";
import { s3ConfigFromEnv } from "@tessera/testing";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

const bucket = required("BARE_BUCKET");
const sourcePrefix = required("BARE_SOURCE_PREFIX");
const outPrefix = required("BARE_OUT_PREFIX");
const concurrency = Number(required("BARE_CONCURRENCY"));
const limit = Number(process.env["BARE_LIMIT"] ?? "0");
const model = required("GEMINI_MODEL");

const started = performance.now();
const s3Config = s3ConfigFromEnv(process.env);
const s3 = new S3Client({
  region: s3Config.region,
  forcePathStyle: s3Config.forcePathStyle,
  ...(s3Config.endpoint === undefined ? {} : { endpoint: s3Config.endpoint }),
  ...(s3Config.credentials === undefined ? {} : { credentials: s3Config.credentials }),
});
const ai = new GoogleGenAI({
  apiKey: required("GEMINI_API_KEY"),
  httpOptions: { baseUrl: required("GOOGLE_GEMINI_BASE_URL") },
});
// The same request Tessera's caption task sends, so the emulator does the same work for both.
const request = bindTask("caption", {}, model).build(1);

const keys: string[] = [];
let token: string | undefined;
do {
  const page = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: sourcePrefix, ContinuationToken: token }),
  );
  for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
  token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
} while (token !== undefined && (limit === 0 || keys.length < limit));
if (limit > 0) keys.length = Math.min(keys.length, limit);

let next = 0;
let done = 0;
let errors = 0;
async function loop(): Promise<void> {
  while (next < keys.length) {
    const key = keys[next++]!;
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await object.Body!.transformToByteArray();
      const response = await ai.models.generateContent({
        model,
        contents: [
          {
            role: "user",
            parts: [
              {
                inlineData: {
                  mimeType: object.ContentType ?? "image/jpeg",
                  data: Buffer.from(bytes).toString("base64"),
                },
              },
              { text: request.prompt },
            ],
          },
        ],
        config: {
          ...request.generationConfig,
          ...(request.systemInstruction === undefined
            ? {}
            : { systemInstruction: request.systemInstruction }),
          maxOutputTokens: 1024,
        },
      });
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${outPrefix}${key.slice(sourcePrefix.length)}.json`,
          Body: JSON.stringify({ text: response.text, usage: response.usageMetadata }),
          ContentType: "application/json",
        }),
      );
      done++;
    } catch (error) {
      errors++;
      if (errors <= 3) console.error(`${key}: ${(error as Error).message}`);
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, loop));
s3.destroy();
console.log(JSON.stringify({ images: done, errors, seconds: (performance.now() - started) / 1000 }));
