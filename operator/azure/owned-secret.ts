// The Secret the operator owns for each provisioned connection (api-key, endpoint, deployment): written by
// server-side apply with an ownerReference to the connection, only when its content differs.
import type { V1Secret } from "@kubernetes/client-node";
import { API_VERSION, type ProviderConnection } from "../../crds/index.ts";
import { FIELD_MANAGER, REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import { isStatus, type KubeClient, PATCH } from "../kube/client.ts";

/** The Secret the operator owns for a provisioned Azure connection (endpoint, deployment and key). */
export function provisionedSecretName(connection: ProviderConnection): string {
  return `${connection.metadata.name}-azure-openai`;
}

/** The keys of the owned Secret. */
export const OWNED_SECRET_KEYS = {
  apiKey: "api-key",
  endpoint: "endpoint",
  deployment: "deployment",
} as const;

/** What the owned Secret holds. */
export interface OwnedSecretData {
  apiKey: string;
  endpoint: string;
  deployment: string;
}

/** The Secret operations provisioning needs; values never leave them except to the caller. */
export interface OwnedSecrets {
  /** The Secret's decoded data, or undefined when it does not exist. */
  read(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Makes the Secret `name` hold `data`, owned by `owner`; returns whether it wrote. */
  ensure(owner: ProviderConnection, name: string, data: OwnedSecretData): Promise<boolean>;
  /** Deletes the Secret; a missing one is already deleted. */
  remove(namespace: string, name: string): Promise<void>;
}

const secretPath = (namespace: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;

/** The Secret as applied: labels say who made it, the ownerReference lets the garbage collector remove it. */
export function ownedSecretManifest(
  owner: ProviderConnection,
  name: string,
  data: OwnedSecretData,
): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "modelkeys",
        "modelkeys.dev/connection": owner.metadata.name,
      },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: "ProviderConnection",
          name: owner.metadata.name,
          uid: owner.metadata.uid ?? "",
          controller: true,
        },
      ],
    },
    type: "Opaque",
    data: {
      [OWNED_SECRET_KEYS.apiKey]: Buffer.from(data.apiKey).toString("base64"),
      [OWNED_SECRET_KEYS.endpoint]: Buffer.from(data.endpoint).toString("base64"),
      [OWNED_SECRET_KEYS.deployment]: Buffer.from(data.deployment).toString("base64"),
    },
  };
}

/** Whether `existing` already is what {@link ownedSecretManifest} would apply. */
export function ownedSecretCurrent(
  existing: V1Secret,
  owner: ProviderConnection,
  data: OwnedSecretData,
): boolean {
  const want = ownedSecretManifest(owner, existing.metadata?.name ?? "", data);
  const sameData = Object.entries(want.data ?? {}).every(([key, value]) => existing.data?.[key] === value);
  const owned = (existing.metadata?.ownerReferences ?? []).some(
    (ref) => ref.uid === owner.metadata.uid && ref.kind === "ProviderConnection" && ref.controller === true,
  );
  return sameData && owned;
}

/**
 * {@link OwnedSecrets} on the API server, as the field manager `modelkeys`.
 *
 * Guarantees: a Secret whose data and ownerReference are already right is not written (no watch event, no
 * churn); keys other than ours that someone added stay (server-side apply owns only our fields).
 */
export function createOwnedSecrets(kc: KubeClient): OwnedSecrets {
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
      if (existing && ownedSecretCurrent(existing, owner, data)) return false;
      if (existing && existing.metadata?.labels?.["app.kubernetes.io/managed-by"] !== "modelkeys") {
        throw new TerminalError(
          REASON.ProvisionFailed,
          `Secret ${name} exists and was not made by modelkeys; rename or delete it so the operator can write the provisioned key there`,
        );
      }
      // Server-side apply: JSON is YAML, so the manifest goes as it is.
      await kc.request("PATCH", secretPath(owner.metadata.namespace, name), {
        query: { fieldManager: FIELD_MANAGER, force: true },
        body: ownedSecretManifest(owner, name, data),
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
