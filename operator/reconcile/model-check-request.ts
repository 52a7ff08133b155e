// What a connection asks its provider to check: the provider's request, built from the connection's target
// (see target.ts), its credential and the models its users expect.
import type { ProviderConnection } from "../../crds/index.ts";
import type { ModelCheckRequest } from "../providers/types.ts";
import type { Credentials } from "./credentials.ts";
import { connectionTarget } from "./target.ts";

/** The check request for `connection`; pure. Provisioned Azure connections use the provisioned deployment. */
export function modelCheckRequest(
  connection: ProviderConnection,
  credentials: Credentials,
  provisioned?: { deployment: string; endpoint: string },
): ModelCheckRequest {
  const { spec } = connection;
  const { deployment, ...target } = connectionTarget(spec, provisioned);
  return {
    provider: spec.provider,
    credentials,
    expectedModels: spec.models,
    ...target,
    // A Custom server is asked for its model by name; Azure for its deployment.
    ...(spec.provider === "Custom" ? { name: deployment } : { deployment }),
  };
}
