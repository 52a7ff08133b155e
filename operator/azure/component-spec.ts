// From the operator's account and deployments to the component's validated spec (one shared schema, so the
// fields are the same), every problem reported at once.
import { AccountSpec as ComponentSpec, describeIssues } from "../../pulumi/args.ts";
import { type AccountSpec, type DeploymentSpec, ProvisionInputError } from "./provisioner.ts";

/** The component's spec for `account` with `deployments`; throws {@link ProvisionInputError} when invalid. */
export function componentSpecFor(account: AccountSpec, deployments: DeploymentSpec[]): ComponentSpec {
  // The subscription and the namespace are the stack's and the state store's business, not the component's.
  const { subscriptionId: _, namespace: __, ...settings } = account;
  const result = ComponentSpec.safeParse({ ...settings, deployments });
  if (!result.success) throw new ProvisionInputError(describeIssues(result.error, ""));
  return result.data;
}
