// The Secret the operator owns for each AzureOpenAIAccount (api-key, endpoint): written by server-side apply
// with an ownerReference to the account, only when its content differs.
import type { V1Secret } from "@kubernetes/client-node";
import { API_VERSION } from "../../crds/index.ts";
import type { AzureOpenAIAccount } from "../azure/account.ts";
import { KEY_SECRET_KEYS } from "../azure/account.ts";
import type { AccountKeyData } from "../azure/ports.ts";
import { FIELD_MANAGER, REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import { isStatus, type KubeClient, PATCH } from "../kube/client.ts";

const secretPath = (namespace: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;

/** The Secret as applied: labels say who made it, the ownerReference lets the garbage collector remove it. */
export function keySecretManifest(owner: AzureOpenAIAccount, name: string, data: AccountKeyData): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "modelkeys",
        "modelkeys.dev/azure-account": owner.metadata.name,
      },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: "AzureOpenAIAccount",
          name: owner.metadata.name,
          uid: owner.metadata.uid ?? "",
          controller: true,
        },
      ],
    },
    type: "Opaque",
    data: {
      [KEY_SECRET_KEYS.apiKey]: Buffer.from(data.apiKey).toString("base64"),
      [KEY_SECRET_KEYS.endpoint]: Buffer.from(data.endpoint).toString("base64"),
    },
  };
}

/** Whether `existing` already is what {@link keySecretManifest} would apply. */
export function keySecretCurrent(
  existing: V1Secret,
  owner: AzureOpenAIAccount,
  data: AccountKeyData,
): boolean {
  const want = keySecretManifest(owner, existing.metadata?.name ?? "", data);
  const sameData = Object.entries(want.data ?? {}).every(([key, value]) => existing.data?.[key] === value);
  const owned = (existing.metadata?.ownerReferences ?? []).some(
    (ref) => ref.uid === owner.metadata.uid && ref.kind === "AzureOpenAIAccount" && ref.controller === true,
  );
  return sameData && owned;
}

/** The key Secret's operations on the API server. */
export interface KeySecrets {
  read(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  ensure(owner: AzureOpenAIAccount, name: string, data: AccountKeyData): Promise<boolean>;
  remove(namespace: string, name: string): Promise<void>;
}

/**
 * The account's key Secret on the API server, as the field manager `modelkeys`.
 *
 * Guarantees: a Secret whose data and ownerReference are already right is not written (no watch event, no
 * churn); keys other than ours that someone added stay (server-side apply owns only our fields); a Secret of
 * that name that modelkeys did not make is never overwritten (a terminal ProvisionFailed says so).
 */
export function createKeySecrets(kc: KubeClient): KeySecrets {
  const get = async (namespace: string, name: string): Promise<V1Secret | undefined> => {
    try {
      return await kc.request<V1Secret>("GET", secretPath(namespace, name));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  };
  return {
    async read(namespace, name) {
      const secret = await get(namespace, name);
      if (!secret) return undefined;
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, "base64").toString("utf8"),
        ]),
      );
    },
    async ensure(owner, name, data) {
      const existing = await get(owner.metadata.namespace, name);
      if (existing && keySecretCurrent(existing, owner, data)) return false;
      if (existing && existing.metadata?.labels?.["app.kubernetes.io/managed-by"] !== "modelkeys") {
        throw new TerminalError(
          REASON.ProvisionFailed,
          `Secret ${name} exists and was not made by modelkeys; rename or delete it so the operator can write the account's key there`,
        );
      }
      // Server-side apply: JSON is YAML, so the manifest goes as it is.
      await kc.request("PATCH", secretPath(owner.metadata.namespace, name), {
        query: { fieldManager: FIELD_MANAGER, force: true },
        body: keySecretManifest(owner, name, data),
        contentType: PATCH.apply,
      });
      return true;
    },
    async remove(namespace, name) {
      try {
        await kc.request("DELETE", secretPath(namespace, name));
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    },
  };
}
