// The Pulumi stack of an Azure account: one stack per account, named so a person can read it and two
// accounts never share one (even when their readable parts collide after sanitising).
import { createHash } from "node:crypto";

/** What identifies an Azure OpenAI account: its name within a resource group (of a subscription). */
export interface AzureAccountRef {
  /** The Cognitive Services account name. */
  accountName: string;
  /** Its resource group. */
  resourceGroupName: string;
  /** @default the credentials' subscription */
  subscriptionId?: string;
  /**
   * The Kubernetes namespace of the account object: where a state store keeps the stack's state. Not part
   * of the stack's identity. @default the store's namespace (the operator's)
   */
  namespace?: string;
}

const MAX_STACK_NAME = 100;

/**
 * `<resource-group>.<account>-<hash8>`: lower-cased (Azure names are case-insensitive), characters
 * Pulumi refuses replaced by `-`, the readable part cut to fit, and a hash of the exact identity
 * (subscription, resource group, account) appended so distinct accounts never collide.
 */
export function stackNameFor(account: AzureAccountRef): string {
  const identity = [account.subscriptionId ?? "", account.resourceGroupName, account.accountName]
    .map((part) => part.toLowerCase())
    .join("/");
  const hash = createHash("sha256").update(identity).digest("hex").slice(0, 8);
  const readable = `${sanitise(account.resourceGroupName)}.${sanitise(account.accountName)}`.slice(
    0,
    MAX_STACK_NAME - 9,
  );
  return `${readable}-${hash}`;
}

function sanitise(part: string): string {
  return part.toLowerCase().replace(/[^a-z0-9_.-]/g, "-");
}
