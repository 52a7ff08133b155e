// The status an account reconcile writes, from what was reconciled: endpoint, effective IP rules, each
// deployment with its state, the active key, the stack and its last update, and kstatus conditions. Pure.
import {
  type AccountStatus,
  type AzureOpenAIAccount,
  type DeploymentStatus,
  keySecretNameOf,
} from "./account.ts";
import type { WantedDeployments } from "./deployments.ts";
import { applyConditions, CONDITION, type ConditionIntent, REASON } from "./ports.ts";
import type { StackMemory } from "./stack-memory.ts";
import type { EnsureState } from "./stack-runner.ts";

/** What the status is made from. */
export interface AccountStatusInput {
  account: AzureOpenAIAccount;
  stack: string;
  /** The state of the stack's update (or destruction when deleting). */
  state: EnsureState;
  /** Undefined while deleting. */
  wanted?: WantedDeployments;
  memory: StackMemory;
  now: Date;
}

function condition(
  type: ConditionIntent["type"],
  status: ConditionIntent["status"],
  reason: ConditionIntent["reason"],
  message: string,
): ConditionIntent {
  return { type, status, reason, message };
}

/** Ready/Reconciling/Stalled as kstatus reads them: in progress, waiting on a person, or done. */
function conditionsOf(input: AccountStatusInput, where: string): ConditionIntent[] {
  const { state, memory, account } = input;
  const deleting = account.metadata.deletionTimestamp !== undefined;
  if (state.kind === "Running") {
    const what = deleting ? `deleting ${where}` : `updating ${where}`;
    return [
      condition(CONDITION.Ready, "False", deleting ? REASON.Deleting : REASON.Provisioning, what),
      condition(CONDITION.Reconciling, "True", REASON.Provisioning, what),
      condition(CONDITION.Stalled, "False", REASON.Provisioning, what),
    ];
  }
  if (state.kind === "Failed") {
    const message = `${deleting ? "deleting" : "updating"} ${where} failed: ${state.message}`;
    return [
      condition(CONDITION.Ready, "False", REASON.ProvisionFailed, message),
      condition(CONDITION.Reconciling, state.terminal ? "False" : "True", REASON.ProvisionFailed, message),
      condition(CONDITION.Stalled, state.terminal ? "True" : "False", REASON.ProvisionFailed, message),
    ];
  }
  const waiting = memory.rotationWaitingFor?.length
    ? `; key rotation waits for the app of ${memory.rotationWaitingFor.join(", ")} to take the new key`
    : "";
  const failedRotation = memory.rotationFailure
    ? `; key rotation failed, retrying: ${memory.rotationFailure.message}`
    : "";
  const rotating = memory.rotation.phase !== "idle" || waiting !== "";
  const count = input.wanted?.deployments.length ?? 0;
  const message = `${where} is provisioned with ${count} deployment${count === 1 ? "" : "s"}${waiting}${failedRotation}`;
  return [
    condition(CONDITION.Ready, "True", REASON.Provisioned, message),
    condition(CONDITION.Reconciling, rotating ? "True" : "False", REASON.Provisioned, message),
    condition(CONDITION.Stalled, "False", REASON.Provisioned, message),
  ];
}

/** Each wanted deployment and its state, then those leaving while the update that removes them runs. */
function deploymentsOf(input: AccountStatusInput): DeploymentStatus[] {
  const { wanted, memory, state, account } = input;
  if (!wanted) return account.status?.deployments ?? [];
  const previous = new Map((account.status?.deployments ?? []).map((d) => [d.name, d]));
  // After a restart this process knows nothing yet: what status said stays true until the first update.
  const exists = (name: string) =>
    memory.outputs
      ? memory.outputs.deploymentNames.includes(name)
      : previous.get(name)?.state === "Succeeded";
  const entry = (
    d: WantedDeployments["deployments"][number],
    connection: string,
    state: DeploymentStatus["state"],
  ): DeploymentStatus => ({
    name: d.name,
    model: d.model,
    version: d.version,
    sku: d.sku,
    state,
    connection,
  });
  const listed = wanted.deployments.map((d) =>
    entry(
      d,
      wanted.owners.get(d.name) ?? "",
      exists(d.name) ? "Succeeded" : state.kind === "Failed" ? "Failed" : "Pending",
    ),
  );
  if (state.kind !== "Done") {
    for (const l of wanted.leaving)
      if (exists(l.deployment.name)) listed.push(entry(l.deployment, l.connection, "Deleting"));
  }
  return listed;
}

/** The account's next status (conditions keep their transition times when they do not flip). */
export function accountStatus(input: AccountStatusInput): AccountStatus {
  const { account, memory, stack } = input;
  const previous = account.status ?? {};
  const where = `Azure account ${account.spec.resourceGroupName}/${account.spec.accountName} (stack ${stack})`;
  const deployments = deploymentsOf(input);
  const status: AccountStatus = {
    observedGeneration: account.metadata.generation,
    deployments,
    deploymentCount: deployments.filter((d) => d.state === "Succeeded").length,
  };
  const endpoint = memory.outputs?.endpoint ?? previous.endpoint;
  if (endpoint) status.endpoint = endpoint;
  const ipRules = memory.outputs?.allowedAddresses ?? previous.ipRules;
  if (ipRules) {
    status.ipRules = ipRules;
    const rules = account.spec.networkRules;
    const subnets = rules?.virtualNetworkSubnetIds?.length ?? 0;
    status.networkSummary = `${rules?.defaultAction ?? "Deny"}+${ipRules.length}${subnets > 0 ? `,vnet${subnets}` : ""}`;
  }
  if (memory.outputs || previous.keySecretName) status.keySecretName = keySecretNameOf(account.metadata.name);
  const activeKey = memory.activeKey ?? previous.activeKey;
  if (activeKey) status.activeKey = activeKey;
  const rotated = memory.rotated;
  const lastRotated = rotated?.time ?? previous.lastRotated;
  if (lastRotated) status.lastRotated = lastRotated;
  const requested = rotated?.value ?? previous.rotateKeyRequestedAt;
  if (requested) status.rotateKeyRequestedAt = requested;
  const lastUpdate = memory.lastUpdate ?? previous.stack?.lastUpdate;
  status.stack = { name: stack, ...(lastUpdate ? { lastUpdate } : {}) };
  status.conditions = applyConditions(
    previous.conditions,
    conditionsOf(input, where),
    account.metadata.generation,
    input.now,
  );
  return status;
}

/** Whether writing `next` would change the stored status. */
export function accountStatusChanged(account: AzureOpenAIAccount, next: AccountStatus): boolean {
  // The API server answers with keys in its own order: compare canonically.
  return canonical(account.status ?? {}) !== canonical(next);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
