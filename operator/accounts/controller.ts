// The AzureOpenAIAccount controller: its own watch of the accounts, an index by accountRef of the ProviderConnections
// that reference one, references on the shared Secret watch (credentials, key and passphrase Secrets) and its own
// queue of account keys,
// running the account reconciler; and, towards the connection controller, the read-only view of the accounts.
import type { KubernetesObject } from "@kubernetes/client-node";
import { AZURE_OPENAI_ACCOUNT_PLURAL, GROUP, type ProviderConnection, VERSION } from "../../crds/index.ts";
import { type AzureOpenAIAccount, accountKeyOf, accountNameOf, keySecretNameOf } from "../azure/account.ts";
import { type AccountReconciler, createAccountReconciler } from "../azure/account-reconciler.ts";
import { connectionDeprovisionView, connectionProvisionView } from "../azure/connection-view.ts";
import type { AzureProvisioner } from "../azure/provisioner.ts";
import type { RetryBackoff } from "../azure/stack-runner.ts";
import type { StackStateStore } from "../azure/state-store.ts";
import { type Clock, within } from "../clock.ts";
import type { Config } from "../config.ts";
import { CONDITION, REASON } from "../constants.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Informer } from "../kube/informer.ts";
import { createNamespacedInformers } from "../kube/namespaced-informers.ts";
import { ownAnnotations } from "../kube/projection.ts";
import type { Logger } from "../log.ts";
import { createWorkQueue, type WorkQueue } from "../queue.ts";
import type { ConditionIntent } from "../reconcile/conditions.ts";
import type { Provisioning, ProvisioningHost, SecretReferences } from "../reconcile/ports.ts";
import { stableMessage } from "../reconcile/stable-message.ts";
import type { PulumiEngineOptions } from "./engine.ts";
import { createAccountKube } from "./kube.ts";

export interface AccountControllerOptions {
  kc: KubeClient;
  config: Pick<
    Config,
    "namespaces" | "identity" | "pulumiBackendUrl" | "pulumiPassphraseSecret" | "concurrency"
  >;
  log: Logger;
  clock: Clock;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** See {@link PulumiEngineOptions.automation}: tests run the real engine on a cloud-free program. */
  automation?: PulumiEngineOptions["automation"];
  /** Backoff of failed updates. @default 30 s doubling to 10 min */
  backoff?: RetryBackoff;
  /** Replaces the Pulumi engine (unit tests). */
  provisioner?: (account: AzureOpenAIAccount) => Promise<AzureProvisioner>;
}

/** The accounts' informer, typed with the kind (informer objects are the API server's JSON, as the type says). */
type AccountCache = Omit<Informer<KubernetesObject>, "list" | "get" | "on"> & {
  get(namespace: string, name: string): AzureOpenAIAccount | undefined;
  list(namespace?: string): readonly AzureOpenAIAccount[];
  on(
    event: "add" | "update" | "delete",
    handler: (o: AzureOpenAIAccount, previous?: AzureOpenAIAccount) => void,
  ): () => void;
};

/**
 * The engine settings of an account: its own `spec.stateBackend` (a backend URL, a passphrase Secret in its
 * namespace) where it names them, else the operator's.
 */
export function engineSettingsOf(
  account: AzureOpenAIAccount,
  config: Pick<Config, "pulumiBackendUrl" | "pulumiPassphraseSecret">,
): Pick<Config, "pulumiBackendUrl" | "pulumiPassphraseSecret"> {
  const backend = account.spec.stateBackend;
  const passphrase = backend?.passphraseSecretRef;
  return {
    pulumiBackendUrl: backend?.url ?? config.pulumiBackendUrl,
    pulumiPassphraseSecret: passphrase
      ? { namespace: account.metadata.namespace, name: passphrase.name, key: passphrase.key }
      : config.pulumiPassphraseSecret,
  };
}

/** How long a connection's read waits for the accounts' first list before it answers "not listed yet". */
const LIST_WAIT_MS = 10_000;

/** `namespace/name`. */
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

function splitKey(key: string): { namespace: string; name: string } {
  const at = key.indexOf("/");
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
}

/** Whether an account update asks for its reconcile: not a status-only change (our own writes). */
function accountChanged(previous: AzureOpenAIAccount | undefined, current: AzureOpenAIAccount): boolean {
  if (!previous) return true;
  const a = previous.metadata;
  const b = current.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(ownAnnotations(a.annotations) ?? {}) !==
      JSON.stringify(ownAnnotations(b.annotations) ?? {}) ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? [])
  );
}

/**
 * The account controller, as a {@link Provisioning} the connection controller attaches: `provision` and
 * `deprovision` only read the account's status from this controller's cache; `attach` starts the watches and
 * the queue (the connection informer's events feed the index); `stop` ends them and the stacks' jobs.
 *
 * Guarantees: one reconcile at a time per account; a change of an account's spec, annotations, finalizers or
 * deletion, of a connection that references it (any field: its spec, deletion or the key its app holds), of its
 * credentials Secret, of its own passphrase Secret or of its key Secret enqueues exactly that account (and a failed
 * update waiting on its backoff is retried at once); a change of an account's status
 * enqueues the connections that reference it; no account is reconciled before the connections have listed.
 * The Secrets are heard of through the connection controller's watch (`ProvisioningHost.watchSecrets`).
 */
export function createAccountController(options: AccountControllerOptions): Provisioning {
  const { kc, config, log, clock } = options;
  const kube = createAccountKube(kc, config.identity, log);
  const accounts = createNamespacedInformers<KubernetesObject>({
    kc,
    resource: { group: GROUP, version: VERSION, plural: AZURE_OPENAI_ACCOUNT_PLURAL },
    namespaces: config.namespaces,
    name: AZURE_OPENAI_ACCOUNT_PLURAL,
    log,
    clock,
  }) as unknown as AccountCache;
  /** accountRef index: `namespace/account` → connection name → the connection as last seen. */
  const index = new Map<string, Map<string, ProviderConnection>>();
  /** The account each indexed connection is filed under, to move or drop it. */
  const filedUnder = new Map<string, string>();
  let host: ProvisioningHost | undefined;
  let queue: WorkQueue | undefined;
  let secrets: SecretReferences | undefined;
  let started: Promise<void> | undefined;
  /** One engine per state backend and passphrase (accounts may name their own in spec.stateBackend). */
  const engines = new Map<string, () => Promise<AzureProvisioner>>();
  let engineModule: Promise<typeof import("./engine.ts")> | undefined;
  let stateStore: StackStateStore | undefined;
  let stateKc: ReturnType<typeof import("../kube/client-node-bridge.ts").clientNodeKubeConfig> | undefined;

  const provisioner =
    options.provisioner ??
    (async (account: AzureOpenAIAccount) => {
      const env = options.env ?? process.env;
      engineModule ??= import("./engine.ts").then((module) => {
        const cli = module.findPulumiCli(env);
        log.info(
          cli
            ? { event: "azure.engine.found", pulumiRoot: cli.root ?? "(PATH)" }
            : { event: "azure.engine.missing", hint: "set MODELKEYS_PULUMI_DIR or put pulumi on PATH" },
        );
        return module;
      });
      const { pulumiEngine } = await engineModule;
      const settings = engineSettingsOf(account, config);
      const key = JSON.stringify(settings);
      let engine = engines.get(key);
      if (!engine) {
        const state = await import("../pulumi-state/index.ts");
        // The default: each stack's checkpoint in a Secret of its account's namespace, locked by a Lease.
        // The state store speaks client-node (loaded here only, on the lazy Azure path).
        const { clientNodeKubeConfig } = await import("../kube/client-node-bridge.ts");
        stateKc ??= clientNodeKubeConfig(kc);
        stateStore ??= new state.KubernetesStateStore({ kc: stateKc, identity: config.identity });
        engine = pulumiEngine({
          config: settings,
          readSecret: (namespace, name) => kube.readSecret(namespace, name),
          createSecret: state.kubernetesPassphraseSecrets(stateKc).create,
          ...(settings.pulumiBackendUrl ? {} : { stateStore }),
          env,
          onEvent: (event) => log.info({ ...event, event: `azure.${event.event}` }),
          ...(options.automation ? { automation: options.automation } : {}),
        });
        engines.set(key, engine);
      }
      return engine();
    });

  const enqueueAccount = (namespace: string, name: string) => queue?.add(keyOf(namespace, name));
  const reconciler: AccountReconciler = createAccountReconciler({
    kube,
    getAccount: (namespace, name) => kube.latest(namespace, name, accounts.get(namespace, name)),
    connectionsOf: (namespace, name) => [...(index.get(keyOf(namespace, name))?.values() ?? [])],
    connectionsSynced: () => host?.connectionsSynced() ?? false,
    enqueue: enqueueAccount,
    provisioner,
    log,
    clock,
    ...(options.env ? { env: options.env } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });

  /** Files a connection under the account it references (or none), enqueueing the accounts concerned. */
  const fileConnection = (connection: ProviderConnection, deleted: boolean) => {
    const id = keyOf(connection.metadata.namespace, connection.metadata.name);
    const before = filedUnder.get(id);
    const after = deleted ? undefined : accountKeyOf(connection);
    if (before !== undefined && before !== after) {
      index.get(before)?.delete(connection.metadata.name);
      if (index.get(before)?.size === 0) index.delete(before);
      filedUnder.delete(id);
      queue?.add(before);
    }
    if (after !== undefined) {
      let members = index.get(after);
      if (!members) {
        members = new Map();
        index.set(after, members);
      }
      members.set(connection.metadata.name, connection);
      filedUnder.set(id, after);
      queue?.add(after);
    }
  };

  const track = (account: AzureOpenAIAccount) => {
    const key = keyOf(account.metadata.namespace, account.metadata.name);
    if (!secrets) return;
    secrets.untrack(key);
    secrets.track(account.metadata.namespace, keySecretNameOf(account.metadata.name), key);
    const credentials = account.spec.credentials?.servicePrincipal?.secretRef.name;
    if (credentials) secrets.track(account.metadata.namespace, credentials, key);
    // A passphrase Secret of the account's own: creating it must not wait out a failed update's backoff.
    const passphrase = account.spec.stateBackend?.passphraseSecretRef?.name;
    if (passphrase) secrets.track(account.metadata.namespace, passphrase, key);
  };

  /** The connections that reference `account`, woken when its status changes. */
  const wakeConnections = (account: AzureOpenAIAccount) => {
    for (const name of index.get(keyOf(account.metadata.namespace, account.metadata.name))?.keys() ?? [])
      host?.enqueue(account.metadata.namespace, name);
  };

  /** Whether the accounts have listed, waiting for that at most {@link LIST_WAIT_MS}. */
  const listed = async (): Promise<boolean> => {
    if (accounts.hasSynced()) return true;
    const ready = (started ?? Promise.resolve()).then(
      () => accounts.hasSynced(),
      () => false,
    );
    return within(clock, ready, LIST_WAIT_MS, () => false);
  };
  const notListed = (): { kind: "Pending"; requeueAfterMs: number; conditions: ConditionIntent[] } => ({
    kind: "Pending",
    requeueAfterMs: 5_000,
    conditions: [
      {
        type: CONDITION.Provisioned,
        status: "False",
        reason: REASON.AccountNotReady,
        message: `the operator has not listed AzureOpenAIAccounts yet (is the ${AZURE_OPENAI_ACCOUNT_PLURAL}.${GROUP} CRD installed, and may the operator list it?)`,
      },
    ],
  });

  const start = async (h: ProvisioningHost) => {
    queue = createWorkQueue({
      concurrency: Math.max(1, Math.min(config.concurrency, 4)),
      clock,
      random: Math.random,
      baseDelayMs: 1_000,
      maxDelayMs: 5 * 60_000,
      onFailure: (key, error, retryInMs) =>
        log.warn({ event: "azure.account.retry", account: key, retryInMs, error: stableMessage(error) }),
      process: async (key) => {
        const { namespace, name } = splitKey(key);
        return reconciler.reconcile(namespace, name);
      },
    });
    // The connection controller's Secret watch, with references of our own: no second list+watch of Secrets.
    secrets = h.watchSecrets((namespace, name) => {
      for (const owner of secrets?.referrers(namespace, name) ?? []) {
        const account = splitKey(owner);
        reconciler.secretChanged(account.namespace, account.name);
        queue?.add(owner);
      }
    });
    h.onConnectionChange((connection, deleted) => {
      if (
        accountNameOf(connection) !== undefined ||
        filedUnder.has(keyOf(connection.metadata.namespace, connection.metadata.name))
      )
        fileConnection(connection, deleted);
    });
    accounts.on("add", (a) => {
      track(a);
      enqueueAccount(a.metadata.namespace, a.metadata.name);
      wakeConnections(a);
    });
    accounts.on("update", (a, previous) => {
      track(a);
      if (accountChanged(previous, a)) enqueueAccount(a.metadata.namespace, a.metadata.name);
      wakeConnections(a);
    });
    accounts.on("delete", (a) => {
      secrets?.untrack(keyOf(a.metadata.namespace, a.metadata.name));
      kube.forget(a.metadata.namespace, a.metadata.name);
      wakeConnections(a);
    });
    await accounts.start();
    log.info({ event: "azure.accounts.started", accounts: accounts.list().length });
  };

  return {
    attach(h) {
      host = h;
      started = start(h).catch((error) => {
        log.error({ event: "azure.accounts.failed", error: stableMessage(error) });
        throw error;
      });
      started.catch(() => undefined);
    },
    async provision(connection) {
      // Nothing is known of the accounts before their first list: "not found" then would be a lie. The wait is
      // bounded, so a missing CRD or RBAC never holds the connection queue's workers.
      if (!(await listed())) return notListed();
      const name = accountNameOf(connection) ?? "";
      const { namespace } = connection.metadata;
      return connectionProvisionView(connection, kube.latest(namespace, name, accounts.get(namespace, name)));
    },
    async deprovision(connection) {
      if (!(await listed())) return notListed();
      const name = accountNameOf(connection) ?? "";
      const { namespace } = connection.metadata;
      return connectionDeprovisionView(
        connection,
        kube.latest(namespace, name, accounts.get(namespace, name)),
      );
    },
    async stop() {
      await started?.catch(() => undefined);
      await accounts.stop();
      await queue?.shutdown();
      await reconciler.stop();
    },
  };
}
