// Which Secret keys a connection reads, and the fingerprint that identifies their values without revealing them.
import { createHash } from "node:crypto";
import type { ProviderConnectionSpec, SecretKeyRef } from "../../crds/index.ts";
import type { ProviderCredentials } from "../providers/types.ts";

/** A connection's credential values by slot: the shape the providers check (one shape for both). */
export type Credentials = ProviderCredentials;
/** The credential slots the app knows; each maps to one write-only app field. */
export type CredentialSlot = keyof Credentials;
export type CredentialRefs = Partial<Record<CredentialSlot, SecretKeyRef>>;

/** The Secret keys a connection's spec references, by slot. Provisioned Azure connections read their owned Secret. */
export function credentialRefs(spec: ProviderConnectionSpec, provisionedSecretName?: string): CredentialRefs {
  switch (spec.provider) {
    case "OpenAI":
      return { apiKey: spec.openAI?.apiKeySecretRef };
    case "Gemini":
      return { apiKey: spec.gemini?.apiKeySecretRef };
    case "Anthropic":
      return { apiKey: spec.anthropic?.apiKeySecretRef };
    case "VertexAI":
      return { credentialsJson: spec.vertexAI?.credentialsSecretRef };
    case "AzureOpenAI":
      if (spec.azure?.provision) {
        return provisionedSecretName ? { apiKey: { name: provisionedSecretName, key: "api-key" } } : {};
      }
      return { apiKey: spec.azure?.apiKeySecretRef };
    case "AzureAIFoundry":
      return { apiKey: spec.azureAIFoundry?.apiKeySecretRef };
    case "Custom":
      return { apiKey: spec.custom?.apiKeySecretRef, authToken: spec.custom?.authTokenSecretRef };
  }
}

/** The names of the Secrets a connection reads, for the Secret watch. */
export function referencedSecretNames(refs: CredentialRefs): string[] {
  return [...new Set(Object.values(refs).flatMap((ref) => (ref ? [ref.name] : [])))].sort();
}

/**
 * `sha256:` and the first 12 hex characters of a hash over every slot's value. It identifies a credential in
 * status, logs and events; 48 bits of a hash of a high-entropy key reveal nothing usable about the key.
 */
export function fingerprint(credentials: Credentials): string {
  const hash = createHash("sha256");
  for (const slot of ["apiKey", "authToken", "credentialsJson"] as const) {
    const value = credentials[slot];
    hash.update(`${slot}:${value === undefined ? "-" : `${value.length}:${value}`};`);
  }
  return `sha256:${hash.digest("hex").slice(0, 12)}`;
}
