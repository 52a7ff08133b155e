// Builders for the objects a test needs: the app stand-in with an owner, an Organization, Secrets, connections.

import { setHeaderOptions } from "@kubernetes/client-node";
import { API_VERSION, type Organization, type ProviderConnection } from "../../crds/index.ts";
import { type AppServer, startAppServer } from "../../local/app/server.ts";
import { testCluster } from "./cluster.ts";
import { waitFor } from "./wait.ts";

export interface AppWithOwner {
  app: AppServer;
  /** The owner's legacy token (a canary value: scanned for in logs, events and status). */
  token: string;
  userId: number;
}

/** Starts the app stand-in with one owner of organization `organization`. */
export async function startAppWithOwner(organization = 1): Promise<AppWithOwner> {
  const app = await startAppServer({ host: "127.0.0.1" });
  const token = `canary-token-${Math.random().toString(36).slice(2)}`;
  const user = app.state.addUser({
    role: "owner",
    organization,
    email: "owner@test.local",
    legacyToken: token,
  });
  return { app, token, userId: user.id };
}

export async function putSecret(
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  const { core } = testCluster();
  const body = { metadata: { name, namespace }, stringData: data };
  try {
    await core.createNamespacedSecret({ namespace, body });
  } catch {
    await core.replaceNamespacedSecret({ namespace, name, body });
  }
}

/**
 * The create request of Organization `namespace/name` at the app `url`, its token in the Secret `tokenSecret`
 * (key `token`); `spec` adds fields. Tests and benchmarks create Organizations through it.
 */
export function organizationRequest(
  namespace: string,
  name: string,
  url: string,
  tokenSecret: string,
  spec: Record<string, unknown> = {},
) {
  return {
    group: "modelkeys.dev",
    version: "v1alpha1",
    namespace,
    plural: "organizations",
    body: {
      apiVersion: API_VERSION,
      kind: "Organization",
      metadata: { name, namespace },
      spec: { url, tokenSecretRef: { name: tokenSecret, key: "token" }, ...spec },
    },
  };
}

export async function createOrganization(
  namespace: string,
  name: string,
  url: string,
  token: string,
  spec: Record<string, unknown> = {},
): Promise<void> {
  await putSecret(namespace, `${name}-token`, { token });
  await testCluster().custom.createNamespacedCustomObject(
    organizationRequest(namespace, name, url, `${name}-token`, spec),
  );
}

export async function createConnection(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await testCluster().custom.createNamespacedCustomObject({
    group: "modelkeys.dev",
    version: "v1alpha1",
    namespace,
    plural: "providerconnections",
    body: { apiVersion: API_VERSION, kind: "ProviderConnection", metadata: { name, namespace }, spec },
  });
}

/** The subscription of test AzureOpenAIAccounts (no Azure is reached: the engine runs cloud-free programs). */
export const TEST_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1";

/**
 * An AzureOpenAIAccount `rg-llm`/`name` in eastus of {@link TEST_SUBSCRIPTION}, its service principal in the
 * Secret `azure-sp`; `spec` adds fields or overrides these.
 */
export function azureAccountManifest(namespace: string, name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: API_VERSION,
    kind: "AzureOpenAIAccount",
    metadata: { name, namespace },
    spec: {
      accountName: name,
      resourceGroupName: "rg-llm",
      location: "eastus",
      subscriptionId: TEST_SUBSCRIPTION,
      credentials: { servicePrincipal: { secretRef: { name: "azure-sp" } } },
      ...spec,
    },
  };
}

/** Creates {@link azureAccountManifest}'s account. */
export async function createAzureAccount(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
): Promise<void> {
  await testCluster().custom.createNamespacedCustomObject({
    group: "modelkeys.dev",
    version: "v1alpha1",
    namespace,
    plural: "azureopenaiaccounts",
    body: azureAccountManifest(namespace, name, spec),
  });
}

type Plural = "providerconnections" | "organizations";
const ours = (namespace: string, plural: Plural) => ({
  group: "modelkeys.dev",
  version: "v1alpha1",
  namespace,
  plural,
});

/** One of our objects as the API server has it now, or undefined when it does not exist. */
async function getObject<T>(plural: Plural, namespace: string, name: string): Promise<T | undefined> {
  try {
    return (await testCluster().custom.getNamespacedCustomObject({ ...ours(namespace, plural), name })) as T;
  } catch {
    return undefined;
  }
}

/** Merge-patches one of our objects as a user would. */
async function patchObject(plural: Plural, namespace: string, name: string, body: Record<string, unknown>) {
  await testCluster().custom.patchNamespacedCustomObject(
    { ...ours(namespace, plural), name, body },
    setHeaderOptions("Content-Type", "application/merge-patch+json"),
  );
}

async function deleteObject(plural: Plural, namespace: string, name: string): Promise<void> {
  await testCluster().custom.deleteNamespacedCustomObject({ ...ours(namespace, plural), name });
}

export const getConnection = (namespace: string, name: string) =>
  getObject<ProviderConnection>("providerconnections", namespace, name);

/** Merge-patches a connection (spec, metadata.annotations, ...) as a user would. */
export const patchConnection = (namespace: string, name: string, body: Record<string, unknown>) =>
  patchObject("providerconnections", namespace, name, body);

export const deleteConnection = (namespace: string, name: string) =>
  deleteObject("providerconnections", namespace, name);

export const getOrganization = (namespace: string, name: string) =>
  getObject<Organization>("organizations", namespace, name);

/** Merge-patches an Organization (e.g. `{spec: {adoptExisting: true}}`). */
export const patchOrganization = (namespace: string, name: string, body: Record<string, unknown>) =>
  patchObject("organizations", namespace, name, body);

export const deleteOrganization = (namespace: string, name: string) =>
  deleteObject("organizations", namespace, name);

/** Waits until the Organization's condition `type` has `status` (and `reason`, when given) for its generation. */
export function waitForOrganizationCondition(
  namespace: string,
  name: string,
  type: string,
  status: "True" | "False" | "Unknown",
  reason?: string,
  timeoutMs = 30_000,
): Promise<Organization> {
  return waitFor(
    async () => {
      const o = await getOrganization(namespace, name);
      const condition = o?.status?.conditions?.find((x) => x.type === type);
      const matches = condition?.status === status && (reason === undefined || condition.reason === reason);
      return matches && o?.status?.observedGeneration === o?.metadata.generation ? o : undefined;
    },
    {
      timeoutMs,
      description: `Organization ${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}`,
    },
  );
}

/** Waits until the connection's condition `type` has `status` (and `reason`, when given); returns the object. */
export function waitForCondition(
  namespace: string,
  name: string,
  type: string,
  status: "True" | "False" | "Unknown",
  reason?: string,
  timeoutMs = 30_000,
): Promise<ProviderConnection> {
  return waitFor(
    async () => {
      const c = await getConnection(namespace, name);
      const condition = c?.status?.conditions?.find((x) => x.type === type);
      const matches = condition?.status === status && (reason === undefined || condition.reason === reason);
      return matches && c?.status?.observedGeneration === c?.metadata.generation ? c : undefined;
    },
    { timeoutMs, description: `${namespace}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}` },
  );
}

/** Events recorded for an object, as "Type Reason: message" lines. */
export async function eventsFor(namespace: string, name: string): Promise<string[]> {
  const list = await testCluster().core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items.map((e) => `${e.type} ${e.reason}: ${e.message}`);
}
