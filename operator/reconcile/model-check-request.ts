// What a connection asks its provider to check: the provider's request, built from the spec, the credential
// and (for a provisioned Azure connection) what provisioning produced.
import type { ProviderConnection } from "../../crds/index.ts";
import type { ModelCheckRequest } from "../providers/types.ts";
import type { Credentials } from "./credentials.ts";

/** The check request for `connection`; pure. Provisioned Azure connections use the provisioned deployment. */
export function modelCheckRequest(
  connection: ProviderConnection,
  credentials: Credentials,
  provisioned?: { deployment: string; endpoint: string },
): ModelCheckRequest {
  const { spec } = connection;
  const request: ModelCheckRequest = { provider: spec.provider, credentials, expectedModels: spec.models };
  switch (spec.provider) {
    case "AzureOpenAI":
      return {
        ...request,
        endpoint: provisioned?.endpoint ?? spec.azure?.endpoint,
        deployment: provisioned?.deployment ?? spec.azure?.deployment,
      };
    case "AzureAIFoundry":
      return {
        ...request,
        endpoint: spec.azureAIFoundry?.endpoint,
        deployment: spec.azureAIFoundry?.deployment,
      };
    case "Custom":
      return { ...request, endpoint: spec.custom?.endpoint, name: spec.custom?.name };
    case "VertexAI":
      return { ...request, projectId: spec.vertexAI?.projectId, location: spec.vertexAI?.location };
    default:
      return request;
  }
}
