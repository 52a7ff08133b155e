// All provider stand-ins at once, for the local sandbox of `npm start` and for integration tests: each one
// runs on loopback, and `baseUrls` points the operator's provider checks at them.
import { type AnthropicBehaviour, startAnthropicStandIn } from "./anthropic.ts";
import { type GeminiBehaviour, startGeminiStandIn } from "./gemini.ts";
import { type OpenAIBehaviour, startOpenAIStandIn } from "./openai.ts";
import type { StandIn } from "./stand-in.ts";
import { startVertexStandIn, type VertexStandIn } from "./vertex.ts";

export type { AnthropicBehaviour } from "./anthropic.ts";
export { DEFAULT_ANTHROPIC_BEHAVIOUR, startAnthropicStandIn } from "./anthropic.ts";
export type { GeminiBehaviour } from "./gemini.ts";
export { DEFAULT_GEMINI_BEHAVIOUR, startGeminiStandIn } from "./gemini.ts";
export type { OpenAIBehaviour, StandInDeployment } from "./openai.ts";
export { DEFAULT_OPENAI_BEHAVIOUR, startOpenAIStandIn } from "./openai.ts";
export type { CommonBehaviour, Fault, RecordedRequest, StandIn } from "./stand-in.ts";
export type { ServiceAccountFile, StandInServiceAccount, VertexBehaviour, VertexStandIn } from "./vertex.ts";
export { createServiceAccountKey, DEFAULT_VERTEX_BEHAVIOUR, startVertexStandIn } from "./vertex.ts";

/** The running stand-ins and the base URLs that route the operator's checks to them. */
export interface ProviderStandIns {
  /** OpenAI, Custom (`${openai.url}/v1`), Azure OpenAI and Azure AI Foundry. */
  openai: StandIn<OpenAIBehaviour>;
  gemini: StandIn<GeminiBehaviour>;
  anthropic: StandIn<AnthropicBehaviour>;
  vertex: VertexStandIn;
  /**
   * For ModelCheckOptions.baseUrls: every provider, Azure and Foundry endpoints included, goes to its
   * stand-in (Custom endpoints are taken from the spec as they are: point them at `${openai.url}/v1`).
   */
  baseUrls: {
    openai: string;
    gemini: string;
    anthropic: string;
    vertex: (location: string) => string;
    azureOpenAI: (endpoint: string) => string;
    azureAIFoundry: (endpoint: string) => string;
  };
  stop(): Promise<void>;
}

/** Starts one stand-in per provider on `host` (a loopback address). */
export async function startProviderStandIns(options: { host?: string } = {}): Promise<ProviderStandIns> {
  const host = options.host ?? "127.0.0.1";
  const [openai, gemini, anthropic, vertex] = await Promise.all([
    startOpenAIStandIn({ host }),
    startGeminiStandIn({ host }),
    startAnthropicStandIn({ host }),
    startVertexStandIn({ host }),
  ]);
  return {
    openai,
    gemini,
    anthropic,
    vertex,
    baseUrls: {
      openai: `${openai.url}/v1`,
      gemini: `${gemini.url}/v1beta`,
      anthropic: `${anthropic.url}/v1`,
      vertex: () => `${vertex.url}/v1`,
      azureOpenAI: () => openai.url,
      azureAIFoundry: () => `${openai.url}/models`,
    },
    stop: async () => {
      await Promise.all([openai.stop(), gemini.stop(), anthropic.stop(), vertex.stop()]);
    },
  };
}
