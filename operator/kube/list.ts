// Lists a collection as plain JSON (every page, at one resourceVersion): what the informer lists before it
// watches (dates stay strings, as in watch events).
import type { KubeClient, KubeList, KubeObject } from "./client.ts";

/** Lists every page (`pageSize` items each) of a collection as plain JSON, at one resourceVersion. */
export async function listAll<T = KubeObject>(
  kc: KubeClient,
  path: string,
  labelSelector?: string,
  fieldSelector?: string,
  pageSize = 500,
  signal?: AbortSignal,
): Promise<KubeList<T>> {
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  do {
    const page = await kc.request<KubeList<T>>("GET", path, {
      query: { limit: pageSize, labelSelector, fieldSelector, continue: continueToken },
      signal,
    });
    resourceVersion ??= page.metadata?.resourceVersion;
    for (const item of page.items ?? []) items.push(item);
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion }, items };
}
