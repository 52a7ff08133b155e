// Where a connection points, read from its spec block: the one home of that rule for the app's record and for
// the model check. Per-model providers name an endpoint and a deployment (Custom: the model name); Vertex AI a
// project and a location; the organization-wide API-key providers nothing.
import type { ProviderConnectionSpec } from "../../crds/index.ts";

/** The non-secret coordinates of a connection; absent fields do not apply to its provider (or are unset). */
export interface ConnectionTarget {
  endpoint?: string;
  /** The Azure deployment, or the model name a Custom server answers to. */
  deployment?: string;
  projectId?: string;
  location?: string;
}

/** The connection's target; a provisioned Azure connection points at what provisioning produced. Pure. */
export function connectionTarget(
  spec: ProviderConnectionSpec,
  provisioned?: { deployment: string; endpoint: string },
): ConnectionTarget {
  switch (spec.provider) {
    case "VertexAI":
      return { projectId: spec.vertexAI?.projectId, location: spec.vertexAI?.location };
    case "AzureOpenAI":
      return {
        deployment: provisioned?.deployment ?? spec.azure?.deployment,
        endpoint: provisioned?.endpoint ?? spec.azure?.endpoint,
      };
    case "AzureAIFoundry":
      return { deployment: spec.azureAIFoundry?.deployment, endpoint: spec.azureAIFoundry?.endpoint };
    case "Custom":
      return { deployment: spec.custom?.name, endpoint: spec.custom?.endpoint };
    default:
      return {};
  }
}
