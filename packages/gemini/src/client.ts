import { GoogleGenAI } from "@google/genai";

export interface GeminiClientOptions {
  apiKey: string;
  /** The emulator's URL in tests and the demo; unset talks to Google. */
  baseUrl?: string;
  timeoutMs: number;
}

/**
 * The SDK client, built once per process. Retries are Tessera's job (the queue knows about
 * attempts, RetryInfo and the shared rate limit), so the SDK's own retry stays off.
 */
export function createGeminiClient(options: GeminiClientOptions): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: options.apiKey,
    httpOptions: {
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
      timeout: options.timeoutMs,
    },
  });
}
