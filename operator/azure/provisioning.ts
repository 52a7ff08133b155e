// Azure OpenAI provisioning for the reconciler: each provisioned ProviderConnection joins its account's stack,
// updates run in the background, the owned Secret carries endpoint and key, and deletion takes out what it made.
import type { ProviderConnection } from "../../crds/index.ts";
import type { Clock } from "../clock.ts";
import { CONDITION, REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import type { ConditionIntent } from "../reconcile/conditions.ts";
import type { AzureStatusView, DeprovisionView, Provisioning, ProvisioningHost } from "../reconcile/ports.ts";
import {
  type ProvisioningContext,
  type ProvisioningKube,
  type ProvisioningLog,
  writeOwnedSecret,
} from "./context.ts";
import { servicePrincipalFrom, workloadIdentityFrom } from "./credentials.ts";
import { advanceRotation } from "./key-rotation.ts";
import {
  accountRef,
  deploymentNameOf,
  type Membership,
  membershipOf,
  type StackTarget,
  uidOf,
} from "./membership.ts";
import { provisionedSecretName } from "./owned-secret.ts";
import type { AzureProvisioner } from "./provisioner.ts";
import { StackMemories, type StackMemory } from "./stack-memory.ts";
import { stackNameFor } from "./stack-name.ts";
import { StackQueue } from "./stack-queue.ts";
import { type EnsureState, type RetryBackoff, StackRunner } from "./stack-runner.ts";
import { removal, update } from "./stack-work.ts";

type Member = Extract<Membership, { kind: "Member" }>;

export interface AzureProvisioningOptions {
  kube: ProvisioningKube;
  /** The engine, built on first use; throws {@link TerminalError} when there is none. */
  provisioner(): Promise<AzureProvisioner>;
  log: ProvisioningLog;
  clock: Clock;
  /** Where workload identity's variables are read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Backoff of failed updates. @default 30 s doubling to 10 min */
  backoff?: RetryBackoff;
}

/**
 * Provisioning for connections with `spec.azure.provision` (see {@link membershipOf} for how connections
 * share an account).
 *
 * Guarantees: `provision` and `deprovision` never wait for Pulumi: an update runs as the stack's one
 * background job, the caller gets Pending (Provisioned=Unknown, Provisioning) meanwhile, and the account's
 * connections are enqueued when it ends; a failure is Provisioned=False (ProvisionFailed) with Pulumi's
 * redacted message and is retried with backoff (invalid specs and a missing engine only after a change);
 * the owned Secret `<connection>-azure-openai` (api-key, endpoint, deployment; ownerReference to the
 * connection) is written only when it differs; a deleting connection's deployment leaves the stack (with
 * Orphan it stays in Azure) and the account is destroyed when its last connection with Delete goes.
 * Assumptions: one operator process (the leader) provisions.
 * Caveats: after a restart every stack is updated once before a rotation can start; a connection moved to
 * another account leaves its deployment in the old stack until that stack's next update; an account
 * destroyed after an Orphan connection left takes that connection's deployment with it.
 */
export function createAzureProvisioning(options: AzureProvisioningOptions): Provisioning {
  let host: ProvisioningHost | undefined;
  const memories = new StackMemories();
  const runner = new StackRunner({
    clock: options.clock,
    backoff: options.backoff,
    onSettled: (stack) => {
      for (const c of host?.connections() ?? []) {
        const provision = c.spec.azure?.provision;
        if (provision && stackNameFor(accountRef(provision)) === stack)
          host?.enqueue(c.metadata.namespace, c.metadata.name);
      }
    },
  });
  const env = options.env ?? process.env;
  const context: ProvisioningContext = {
    kube: options.kube,
    runner,
    memories,
    secretLock: new StackQueue(),
    provisioner: options.provisioner,
    log: options.log,
    clock: options.clock,
    credentials: async (connection, provision) => {
      const ref = provision.account.credentialsSecretRef;
      const result = ref
        ? servicePrincipalFrom(
            ref.name,
            await options.kube.read(connection.metadata.namespace, ref.name),
            provision.account.subscriptionId,
          )
        : workloadIdentityFrom(env, provision.account.subscriptionId);
      if (result.kind === "Ready") return result.credentials;
      // A Secret can appear (it is watched); the operator's own identity cannot without a restart.
      throw ref ? new Error(result.message) : new TerminalError(REASON.ProvisionFailed, result.message);
    },
  };
  const all = () => {
    if (!host) throw new Error("internal: Azure provisioning used before the controller attached it");
    return host.connections();
  };

  return {
    attach(h) {
      host = h;
    },
    stop: () => runner.stop(),

    async provision(connection) {
      const member = membershipOf(connection, all());
      if (member.kind === "Rejected") {
        return {
          kind: "Pending",
          conditions: [provisioned("False", REASON.ProvisionFailed, member.message)],
        };
      }
      const memory = memories.of(member.stack);
      const target = member.keep as StackTarget;
      const state = runner.ensure(member.stack, target.key, () =>
        update(context, connection, member, target),
      );
      const serving = await serve(context, connection, member, memory);
      if (state.kind === "Done" && serving) await advanceRotation(context, connection, member);
      const conditions = [provisionCondition(member, state, memory)];
      const azureStatus = statusOf(connection, member, memory);
      return serving
        ? {
            kind: "Ready",
            ...serving,
            secretName: provisionedSecretName(connection),
            conditions,
            azureStatus,
          }
        : { kind: "Pending", conditions, ...(azureStatus ? { azureStatus } : {}) };
    },

    async deprovision(connection) {
      if (!connection.spec.azure?.provision) return { kind: "Done" };
      const member = membershipOf(connection, all());
      const memory = memories.of(member.stack);
      const done = async (): Promise<DeprovisionView> => {
        memory.deprovisioned.add(uidOf(connection));
        memory.rotated.delete(uidOf(connection));
        await options.kube.remove(connection.metadata.namespace, provisionedSecretName(connection));
        return { kind: "Done" };
      };
      if (member.kind === "Rejected" || memory.deprovisioned.has(uidOf(connection))) return done();
      const state = removal(context, connection, member, memory);
      if (state.kind === "Done") return done();
      return { kind: "Pending", conditions: removalConditions(member, connection, state) };
    },
  };
}

/**
 * What the app can use now: the stack's last outputs (written to the owned Secret first), else the owned
 * Secret a previous process wrote for this deployment; undefined before the deployment exists.
 */
async function serve(
  context: ProvisioningContext,
  connection: ProviderConnection,
  member: Member,
  memory: StackMemory,
): Promise<{ deployment: string; endpoint: string } | undefined> {
  const deployment = member.deployment.name;
  const wrote = await context.secretLock.run(member.stack, () =>
    writeOwnedSecret(context, connection, memory),
  );
  if (wrote && memory.outputs) return { deployment, endpoint: memory.outputs.endpoint };
  const data = await context.kube.read(connection.metadata.namespace, provisionedSecretName(connection));
  if (data?.deployment === deployment && data.endpoint && data["api-key"])
    return { deployment, endpoint: data.endpoint };
  return undefined;
}

function provisioned(
  status: ConditionIntent["status"],
  reason: ConditionIntent["reason"],
  message: string,
): ConditionIntent {
  return { type: CONDITION.Provisioned, status, reason, message };
}

function provisionCondition(member: Member, state: EnsureState, memory: StackMemory): ConditionIntent {
  const where = `Azure account ${member.ref.resourceGroupName}/${member.ref.accountName} (stack ${member.stack})`;
  if (state.kind === "Failed") return provisioned("False", REASON.ProvisionFailed, state.message);
  if (state.kind === "Running") return provisioned("Unknown", REASON.Provisioning, `updating ${where}`);
  const waiting = memory.rotationWaitingFor?.length
    ? `; key rotation waits for the app of ${memory.rotationWaitingFor.join(", ")} to take the new key`
    : "";
  const failedRotation = memory.rotationFailure
    ? `; key rotation failed, retrying: ${memory.rotationFailure.message}`
    : "";
  return provisioned(
    "True",
    REASON.Provisioned,
    `deployment ${member.deployment.name} of ${where} is provisioned${waiting}${failedRotation}`,
  );
}

function removalConditions(
  member: Member,
  connection: ProviderConnection,
  state: EnsureState,
): ConditionIntent[] {
  const what =
    connection.spec.deletionPolicy === "Orphan"
      ? `releasing deployment ${member.deployment.name} (deletionPolicy Orphan: it stays in Azure)`
      : member.keep
        ? `removing deployment ${member.deployment.name} from Azure account ${member.ref.accountName}`
        : `deleting Azure account ${member.ref.accountName}, whose last connection this is`;
  const message =
    state.kind === "Failed"
      ? `${what} failed: ${state.message}; to remove the connection without it, annotate modelkeys.dev/release=true`
      : what;
  return [
    { type: CONDITION.Ready, status: "False", reason: REASON.Deleting, message },
    state.kind === "Failed"
      ? provisioned("False", REASON.ProvisionFailed, message)
      : provisioned("Unknown", REASON.Provisioning, message),
  ];
}

/** status.azure: the stack's last outputs for this connection, its update time and result, the handled rotation. */
function statusOf(
  connection: ProviderConnection,
  member: Member,
  memory: StackMemory,
): AzureStatusView | undefined {
  if (!memory.outputs && !memory.lastUpdate && !memory.rotated.has(uidOf(connection))) return undefined;
  const next: AzureStatusView = { ...(connection.status?.azure ?? {}), stack: member.stack };
  const mine = memory.deployments?.find((d) => d.name === deploymentNameOf(connection));
  if (memory.outputs) {
    next.accountName = memory.outputs.accountName;
    next.endpoint = memory.outputs.endpoint;
    next.allowedAddresses = memory.outputs.allowedAddresses;
  }
  if (mine && memory.outputs?.deploymentNames.includes(mine.name)) {
    next.deployment = mine.name;
    next.model = mine.model;
  }
  if (memory.lastUpdate) {
    next.lastUpdateTime = memory.lastUpdate.time;
    next.lastUpdateResult = memory.lastUpdate.result;
  }
  const rotated = memory.rotated.get(uidOf(connection));
  if (rotated) {
    next.rotateKeyRequestedAt = rotated.value;
    next.keyRotatedTime = rotated.time;
  }
  return next;
}
