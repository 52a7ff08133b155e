// What a provisioned ProviderConnection reads of its account: a pure function of the account's status, so
// the connection's reconcile stays a read (the account reconciler does every Azure and Secret write).
import type { ProviderConnection } from "../../crds/index.ts";
import { type AzureOpenAIAccount, accountNameOf, azureNameOf } from "./account.ts";
import { deploymentNameOf } from "./deployments.ts";
import {
  ANNOTATIONS,
  CONDITION,
  type ConditionIntent,
  type DeprovisionView,
  type ProvisionView,
  REASON,
} from "./ports.ts";

function provisioned(
  status: ConditionIntent["status"],
  reason: ConditionIntent["reason"],
  message: string,
): ConditionIntent {
  return { type: CONDITION.Provisioned, status, reason, message };
}

function readyMessage(account: AzureOpenAIAccount): string {
  const ready = account.status?.conditions?.find((c) => c.type === CONDITION.Ready);
  return ready?.message ? `: ${ready.message}` : ": not reconciled yet";
}

/**
 * What `connection` can use of its account: Ready (the deployment is made, with the endpoint and the account's
 * key Secret) or Pending with a Provisioned=False condition naming the account and why (AccountNotFound,
 * AccountNotReady, or ProvisionFailed when another connection holds the deployment name).
 */
export function connectionProvisionView(
  connection: ProviderConnection,
  account: AzureOpenAIAccount | undefined,
): ProvisionView {
  const name = accountNameOf(connection) ?? "";
  const { namespace } = connection.metadata;
  const pending = (reason: ConditionIntent["reason"], message: string): ProvisionView => ({
    kind: "Pending",
    conditions: [provisioned("False", reason, message)],
  });
  if (!account) {
    return pending(REASON.AccountNotFound, `AzureOpenAIAccount ${name} not found in namespace ${namespace}`);
  }
  if (account.metadata.deletionTimestamp) {
    return pending(REASON.AccountNotReady, `AzureOpenAIAccount ${name} is being deleted`);
  }
  const deployment = deploymentNameOf(connection);
  const entry = account.status?.deployments?.find((d) => d.name.toLowerCase() === deployment.toLowerCase());
  if (entry && entry.connection !== connection.metadata.name) {
    return pending(
      REASON.ProvisionFailed,
      `deployment "${deployment}" of AzureOpenAIAccount ${name} is taken by ProviderConnection ${entry.connection}; set spec.azure.provision.deployment.name`,
    );
  }
  const endpoint = account.status?.endpoint;
  const secretName = account.status?.keySecretName;
  if (entry?.state !== "Succeeded" || !endpoint || !secretName) {
    const what = entry
      ? `deployment ${deployment} is ${entry.state}`
      : `deployment ${deployment} is not made yet`;
    return pending(
      REASON.AccountNotReady,
      `waiting for AzureOpenAIAccount ${name} (${what})${readyMessage(account)}`,
    );
  }
  return {
    kind: "Ready",
    deployment: entry.name,
    endpoint,
    secretName,
    conditions: [
      provisioned(
        "True",
        REASON.Provisioned,
        `deployment ${entry.name} of AzureOpenAIAccount ${name} is provisioned`,
      ),
    ],
    azureStatus: { accountName: azureNameOf(account), endpoint, deployment: entry.name, model: entry.model },
  };
}

/**
 * Whether a deleting connection's deployment has left its account: Done once the account's status lists no
 * deployment of this connection (or the account is gone or going); else Pending, saying what it waits for.
 */
export function connectionDeprovisionView(
  connection: ProviderConnection,
  account: AzureOpenAIAccount | undefined,
): DeprovisionView {
  if (!account || account.metadata.deletionTimestamp) return { kind: "Done" };
  const entry = account.status?.deployments?.find((d) => d.connection === connection.metadata.name);
  if (!entry) return { kind: "Done" };
  const name = accountNameOf(connection) ?? "";
  const what =
    connection.spec.deletionPolicy === "Orphan"
      ? `releasing deployment ${entry.name} from AzureOpenAIAccount ${name} (deletionPolicy Orphan: it stays in Azure)`
      : `waiting for AzureOpenAIAccount ${name} to delete deployment ${entry.name}`;
  const stalled = account.status?.conditions?.find(
    (c) => c.type === CONDITION.Stalled && c.status === "True",
  );
  const failed = account.status?.conditions?.find(
    (c) => c.type === CONDITION.Ready && c.reason === REASON.ProvisionFailed,
  );
  const message = failed
    ? `${what}, whose update failed: ${failed.message}; to remove the connection without it, annotate ${ANNOTATIONS.releaseFinalizer}=true`
    : what;
  return {
    kind: "Pending",
    conditions: [
      { type: CONDITION.Ready, status: "False", reason: REASON.Deleting, message },
      stalled || failed
        ? provisioned("False", REASON.ProvisionFailed, message)
        : provisioned("Unknown", REASON.Provisioning, message),
    ],
  };
}
