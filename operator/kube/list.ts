// Lists a collection as plain JSON (every page, at one resourceVersion): what the informer lists before it
// watches (dates stay strings, as in watch events).
import type { KubeClient, KubeList, KubeObject } from "./client.ts";

export interface ListOptions<T, U> {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per page. @default 500 */
  pageSize?: number;
  signal?: AbortSignal;
  /**
   * Applied to each item as its page arrives, so only one page of whole objects is held at once: an informer's
   * cache projection drops managedFields, which would otherwise stay in memory for the whole collection until the
   * last page (at 10,000 objects with status, more than the operator's own memory limit).
   */
  project?: (item: T) => U;
}

/** Lists every page of a collection as plain JSON, at one resourceVersion, each item through `project`. */
export async function listAll<T = KubeObject, U = T>(
  kc: KubeClient,
  path: string,
  options: ListOptions<T, U> = {},
): Promise<KubeList<U>> {
  const project = options.project ?? ((item: T) => item as unknown as U);
  const items: U[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  do {
    const page = await kc.request<KubeList<T>>("GET", path, {
      query: {
        limit: options.pageSize ?? 500,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        continue: continueToken,
      },
      signal: options.signal,
    });
    resourceVersion ??= page.metadata?.resourceVersion;
    for (const item of page.items ?? []) items.push(project(item));
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion }, items };
}
