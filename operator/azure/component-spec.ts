// From the operator's account and deployments to the component's validated spec: the field names of the
// ProviderConnection (name, resourceGroup) mapped onto the component's, every problem reported at once.
import { AccountSpec as ComponentSpec, describeIssues } from "../../pulumi/args.ts";
import { type AccountSpec, type DeploymentSpec, ProvisionInputError } from "./provisioner.ts";

const FIELD_NAMES: Record<string, string> = { resourceGroupName: "resourceGroup", accountName: "name" };

/** The component's spec for `account` with `deployments`; throws {@link ProvisionInputError} when invalid. */
export function componentSpecFor(account: AccountSpec, deployments: DeploymentSpec[]): ComponentSpec {
  const result = ComponentSpec.safeParse({
    resourceGroupName: account.resourceGroup,
    createResourceGroup: account.createResourceGroup,
    location: account.location,
    accountName: account.name,
    customSubDomainName: account.customSubDomainName,
    sku: account.sku,
    publicNetworkAccess: account.publicNetworkAccess,
    allowedAddresses: account.allowedAddresses,
    virtualNetworkSubnetIds: account.virtualNetworkSubnetIds,
    deployments,
  });
  if (!result.success) {
    throw new ProvisionInputError(
      describeIssues(result.error, "").map((issue) =>
        issue.replace(/^(\w+)/, (field) => FIELD_NAMES[field] ?? field),
      ),
    );
  }
  return result.data;
}
