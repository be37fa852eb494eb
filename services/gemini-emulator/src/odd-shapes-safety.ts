// The two ways a safety filter answers: the prompt refused before any candidate exists
// (promptFeedback.blockReason), or a candidate stopped with finishReason SAFETY and no content.
// Both keep the prompt's usageMetadata, as the real API does: the prompt was read and is billed.
import type { GenerateContentResponse } from "./generate.ts";
import type { UsageMetadata } from "./usage.ts";

export interface SafetyRating {
  category: string;
  probability: "NEGLIGIBLE" | "LOW" | "MEDIUM" | "HIGH";
  blocked?: true;
}

export type PromptUsage = Pick<UsageMetadata, "promptTokenCount" | "totalTokenCount" | "promptTokensDetails">;

export interface BlockedPromptResponse {
  promptFeedback: { blockReason: "SAFETY"; safetyRatings: SafetyRating[] };
  usageMetadata: PromptUsage;
  modelVersion: string;
  responseId: string;
}

export interface SafetyStoppedResponse {
  candidates: { finishReason: "SAFETY"; index: number; safetyRatings: SafetyRating[] }[];
  usageMetadata: PromptUsage;
  modelVersion: string;
  responseId: string;
}

/** The one category that trips; the others are listed as harmless, as the API lists all four. */
function ratings(flagBlocked: boolean): SafetyRating[] {
  return [
    { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", probability: "NEGLIGIBLE" },
    { category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" },
    { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
    {
      category: "HARM_CATEGORY_DANGEROUS_CONTENT",
      probability: "HIGH",
      ...(flagBlocked ? { blocked: true as const } : {}),
    },
  ];
}

function promptUsage(response: GenerateContentResponse): PromptUsage {
  const { promptTokenCount, promptTokensDetails } = response.usageMetadata;
  return { promptTokenCount, totalTokenCount: promptTokenCount, promptTokensDetails };
}

export function blockPrompt(response: GenerateContentResponse): BlockedPromptResponse {
  return {
    promptFeedback: { blockReason: "SAFETY", safetyRatings: ratings(false) },
    usageMetadata: promptUsage(response),
    modelVersion: response.modelVersion,
    responseId: response.responseId,
  };
}

export function stopForSafety(response: GenerateContentResponse): SafetyStoppedResponse {
  return {
    candidates: [{ finishReason: "SAFETY", index: 0, safetyRatings: ratings(true) }],
    usageMetadata: promptUsage(response),
    modelVersion: response.modelVersion,
    responseId: response.responseId,
  };
}
