// What the cluster benchmarks create (Custom connections of the Organization "acme") and how they spread work
// over a few workers at once.
import type { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../crds/index.ts";
import { organizationRequest } from "../support/world.ts";

/** The Custom server a connection names, and the Secret key holding its API key. */
export interface CustomTarget {
  model: string;
  endpoint: string;
  secret: { name: string; key: string };
}

/** Creates the Organization `acme` of the app at `appUrl`, with its token in the Secret `ls`. */
export async function createAcme(
  admin: { core: CoreV1Api; custom: CustomObjectsApi },
  namespace: string,
  appUrl: string,
  token: string,
): Promise<void> {
  await admin.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "ls" }, stringData: { token } },
  });
  await admin.custom.createNamespacedCustomObject(organizationRequest(namespace, "acme", appUrl, "ls"));
}

/**
 * The create request of the Custom ProviderConnection `namespace/name` of Organization `acme`, with `annotations`
 * if given, in `group` (default modelkeys.dev; write-cost also creates them in a copy of the CRD under another
 * group). Benchmarks create connections through it, over client-node's API or their own pooled client.
 */
export function customConnectionRequest(
  namespace: string,
  name: string,
  target: CustomTarget,
  options: { annotations?: Record<string, string>; group?: string } = {},
) {
  const { annotations, group = GROUP } = options;
  return {
    group,
    version: VERSION,
    namespace,
    plural: "providerconnections",
    body: {
      apiVersion: `${group}/${VERSION}`,
      kind: "ProviderConnection",
      metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
      spec: {
        organizationRef: { name: "acme" },
        provider: "Custom",
        custom: { name: target.model, endpoint: target.endpoint, apiKeySecretRef: target.secret },
      },
    },
  };
}

/** Creates the connection {@link customConnectionRequest} describes. */
export async function createCustomConnection(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  target: CustomTarget,
  options: { annotations?: Record<string, string>; group?: string } = {},
): Promise<void> {
  await custom.createNamespacedCustomObject(customConnectionRequest(namespace, name, target, options));
}

/** Runs `work(i)` for i = 0 … n − 1, at most `concurrency` at once, each worker taking the next index. */
export async function inParallel(
  n: number,
  concurrency: number,
  work: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}
