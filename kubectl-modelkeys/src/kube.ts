// The plugin's only contact with the cluster: the user's kubeconfig and RBAC, our two kinds and Events. It never
// reads a Secret (there is no call for it here).
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import {
  GROUP,
  ORGANIZATION_PLURAL,
  type Organization,
  PROVIDER_CONNECTION_PLURAL,
  type ProviderConnection,
  VERSION,
} from "../../crds/index.ts";

/** An Event as `status` shows it. */
export interface EventLine {
  type: string;
  reason: string;
  message: string;
  time: string;
  count: number;
}

/** A failure to reach the cluster or a refusal by RBAC: the plugin exits 2 with this message. */
export class AccessError extends Error {}

/** Where the plugin acts: the kubeconfig (KUBECONFIG or ~/.kube/config, or --kubeconfig), context, namespace. */
export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
}

/** The calls the plugin makes. */
export interface Cluster {
  /** The namespace of the current context (kubectl's default), else "default". */
  defaultNamespace: string;
  listConnections(namespace: string | undefined): Promise<ProviderConnection[]>;
  listOrganizations(namespace: string | undefined): Promise<Organization[]>;
  getConnection(namespace: string, name: string): Promise<ProviderConnection | undefined>;
  annotateConnection(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  events(namespace: string, kind: string, name: string): Promise<EventLine[]>;
}

/** Connects with the user's kubeconfig. */
export function connect(options: ClusterOptions = {}): Cluster {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (options.context) kc.setCurrentContext(options.context);
  } catch (error) {
    throw new AccessError(`cannot load the kubeconfig: ${(error as Error).message}`);
  }
  if (!kc.getCurrentCluster()) throw new AccessError("the kubeconfig has no current cluster");
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const base = { group: GROUP, version: VERSION };
  const list = async <T>(plural: string, namespace: string | undefined): Promise<T[]> => {
    const answer = (await access(() =>
      namespace === undefined
        ? custom.listClusterCustomObject({ ...base, plural })
        : custom.listNamespacedCustomObject({ ...base, plural, namespace }),
    )) as { items: T[] };
    return answer.items;
  };
  return {
    defaultNamespace: kc.getContextObject(kc.getCurrentContext())?.namespace || "default",
    listConnections: (namespace) => list<ProviderConnection>(PROVIDER_CONNECTION_PLURAL, namespace),
    listOrganizations: (namespace) => list<Organization>(ORGANIZATION_PLURAL, namespace),
    async getConnection(namespace, name) {
      try {
        return (await access(() =>
          custom.getNamespacedCustomObject({ ...base, plural: PROVIDER_CONNECTION_PLURAL, namespace, name }),
        )) as ProviderConnection;
      } catch (error) {
        if (error instanceof NotFound) return undefined;
        throw error;
      }
    },
    async annotateConnection(namespace, name, annotations) {
      await access(() =>
        custom.patchNamespacedCustomObject(
          {
            ...base,
            plural: PROVIDER_CONNECTION_PLURAL,
            namespace,
            name,
            body: { metadata: { annotations } },
            fieldManager: "kubectl-modelkeys",
          },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        ),
      );
    },
    async events(namespace, kind, name) {
      const answer = await access(() =>
        core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
        }),
      );
      return answer.items
        .map((e) => ({
          type: e.type ?? "",
          reason: e.reason ?? "",
          message: e.message ?? "",
          time: isoTime(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp),
          count: e.count ?? 1,
        }))
        .sort((a, b) => a.time.localeCompare(b.time));
    },
  };
}

/** A 404 from the API server. */
export class NotFound extends Error {}

async function access<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiException) {
      if (error.code === 404) throw new NotFound("not found");
      const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body);
      let message = body;
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        // not JSON: keep the body as it is
      }
      throw new AccessError(`the API server answered ${error.code}: ${message}`);
    }
    throw new AccessError(`cannot reach the API server: ${(error as Error).message}`);
  }
}

function isoTime(value: Date | string | undefined): string {
  if (value === undefined) return "";
  return value instanceof Date ? value.toISOString() : value;
}
