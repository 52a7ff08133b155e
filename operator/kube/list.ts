// Lists a collection as plain JSON (every page), through the kubeconfig's authentication: what the informer
// lists before it watches, without the typed clients' deserialisation (dates stay strings, as in watch events).
import {
  HttpMethod,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  RequestContext,
} from "@kubernetes/client-node";
import { fetch } from "undici";

/** Lists every page (`pageSize` items each) of a collection as plain JSON, at one resourceVersion. */
export async function listAll(
  kc: KubeConfig,
  path: string,
  labelSelector?: string,
  fieldSelector?: string,
  pageSize = 500,
): Promise<KubernetesListObject<KubernetesObject>> {
  const items: KubernetesObject[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  do {
    const page = await getJson(kc, path, {
      limit: String(pageSize),
      labelSelector,
      fieldSelector,
      continue: continueToken,
    });
    const list = page as KubernetesListObject<KubernetesObject>;
    resourceVersion ??= list.metadata?.resourceVersion;
    items.push(...(list.items ?? []));
    continueToken =
      list.metadata?._continue ?? (list.metadata as { continue?: string } | undefined)?.continue;
  } while (continueToken);
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion }, items };
}

/** A GET through the kubeconfig's authentication; a non-2xx answer throws with `statusCode` and the Status message. */
export async function getJson(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("no current cluster in the kubeconfig");
  const url = new URL(cluster.server + path);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const response = await fetch(url, {
    method: "GET",
    headers: ctx.getHeaders(),
    dispatcher: ctx.getDispatcher(),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await response.json().catch(() => undefined)) as { message?: string } | undefined;
  if (!response.ok) {
    const err = new Error(`GET ${path}: ${response.status} ${body?.message ?? response.statusText}`);
    Object.assign(err, { statusCode: response.status, code: response.status });
    throw err;
  }
  return body;
}
