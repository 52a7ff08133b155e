// The API server as the account reconciler uses it: the AzureOpenAIAccount's metadata and status, its key
// Secret, the Secrets it reads, and Events; every write as the field manager `modelkeys`.
import { GROUP, AZURE_OPENAI_ACCOUNT_PLURAL as PLURAL, VERSION } from "../../crds/index.ts";
import type { AzureOpenAIAccount } from "../azure/account.ts";
import type { AccountKube } from "../azure/ports.ts";
import { FIELD_MANAGER } from "../constants.ts";
import { type KubeClient, PATCH } from "../kube/client.ts";
import { createEventRecorder } from "../kube/events.ts";
import { KubeObjects } from "../kube/objects.ts";
import { createOwnWrites } from "../kube/own-writes.ts";
import type { Logger } from "../log.ts";
import { stableMessage } from "../reconcile/stable-message.ts";
import { createKeySecrets } from "./key-secret.ts";

const accountPath = (namespace: string, name: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(name)}`;

/** {@link AccountKube} plus the reads of our own last writes (a reconcile never acts on an older status). */
export interface AccountKubeRuntime extends AccountKube {
  /** The newer of `cached` and our last write's answer. */
  latest(
    namespace: string,
    name: string,
    cached: AzureOpenAIAccount | undefined,
  ): AzureOpenAIAccount | undefined;
  /** Forgets a deleted account's writes. */
  forget(namespace: string, name: string): void;
}

/** The account reconciler's API server, as `identity`. Events are best effort: a refused one is logged. */
export function createAccountKube(kc: KubeClient, identity: string, log: Logger): AccountKubeRuntime {
  const objects = new KubeObjects(kc, identity);
  const keySecrets = createKeySecrets(kc);
  const events = createEventRecorder({ kc, host: identity });
  const writes = createOwnWrites<AzureOpenAIAccount>();
  const key = (namespace: string, name: string) => `AzureOpenAIAccount/${namespace}/${name}`;
  const remember = (account: AzureOpenAIAccount) => {
    writes.wrote(key(account.metadata.namespace, account.metadata.name), account);
    return account;
  };
  return {
    readSecret: (namespace, name) => objects.readSecret(namespace, name),
    ensureKeySecret: (account, name, data) => keySecrets.ensure(account, name, data),
    removeSecret: (namespace, name) => keySecrets.remove(namespace, name),
    async patchMetadata(account, metadata) {
      return remember(
        await kc.request<AzureOpenAIAccount>(
          "PATCH",
          accountPath(account.metadata.namespace, account.metadata.name),
          {
            query: { fieldManager: FIELD_MANAGER },
            body: { metadata: { ...metadata, resourceVersion: account.metadata.resourceVersion } },
            contentType: PATCH.merge,
          },
        ),
      );
    },
    async patchStatus(account, status) {
      return remember(
        await kc.request<AzureOpenAIAccount>(
          "PATCH",
          `${accountPath(account.metadata.namespace, account.metadata.name)}/status`,
          { query: { fieldManager: FIELD_MANAGER }, body: { status }, contentType: PATCH.merge },
        ),
      );
    },
    async event(object, event) {
      try {
        await events.record({ kind: object.kind, metadata: object.metadata }, event);
      } catch (error) {
        log.warn({
          event: "event.failed",
          object: `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`,
          reason: event.reason,
          error: stableMessage(error),
        });
      }
    },
    latest: (namespace, name, cached) => writes.latest(key(namespace, name), cached),
    forget: (namespace, name) => writes.forget(key(namespace, name)),
  };
}
