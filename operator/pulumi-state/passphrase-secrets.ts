// The passphrase Secret on the API server: read it, or create it once (no owner, so it outlives uninstall).
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { PassphraseSecrets } from "../azure/passphrase.ts";
import { STATE_LABELS } from "./names.ts";
import { isStatus } from "./stack-lease.ts";

/** {@link PassphraseSecrets} through the core v1 API. */
export function kubernetesPassphraseSecrets(kc: KubeConfig): PassphraseSecrets {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async read(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        return Object.fromEntries(
          Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
        );
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    },
    async create(namespace, name, data) {
      try {
        await core.createNamespacedSecret({
          namespace,
          body: {
            metadata: {
              name,
              namespace,
              // No owner: it outlives the operator's uninstall, like the state it decrypts.
              labels: { "app.kubernetes.io/managed-by": STATE_LABELS["app.kubernetes.io/managed-by"] },
            },
            type: "Opaque",
            stringData: data,
          },
        });
        return "created";
      } catch (error) {
        if (isStatus(error, 409)) return "exists";
        if (isStatus(error, 403)) return "forbidden";
        throw error;
      }
    },
  };
}
