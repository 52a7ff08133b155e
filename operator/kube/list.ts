// Lists a collection as plain JSON (every page, at one resourceVersion): what the informer lists before it
// watches (dates stay strings, as in watch events).
import type { KubeClient, KubeList, KubeObject } from "./client.ts";

/** Items the first page asks for: few enough that a page of the largest objects stays small. */
const FIRST_PAGE = 50;

export interface ListOptions<T, U> {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per page at most. @default 500 */
  pageSize?: number;
  /**
   * About how many characters of JSON a page should hold. The first page asks for 50 items (at most `pageSize`);
   * each next one for as many as the last page's characters per item say fit, at most twice the last page's
   * items. So a page of small objects soon asks for `pageSize`, and a collection of large ones (up to 256 KiB of
   * annotations each, and more in labels) is read a few MiB at a time, not 500 large objects in one answer
   * (with the text and its parse, three times the page's size in memory at once). @default 4 MiB
   */
  pageChars?: number;
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
  const maxItems = Math.max(1, options.pageSize ?? 500);
  const pageChars = options.pageChars ?? 4 * 1024 * 1024;
  const items: U[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  let limit = Math.min(FIRST_PAGE, maxItems);
  do {
    let chars = 0;
    const page = await kc.request<KubeList<T>>("GET", path, {
      query: {
        limit,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        continue: continueToken,
      },
      signal: options.signal,
      onAnswerLength: (length) => {
        chars = length;
      },
    });
    resourceVersion ??= page.metadata?.resourceVersion;
    const pageItems = page.items ?? [];
    for (const item of pageItems) items.push(project(item));
    continueToken = page.metadata?.continue || undefined;
    if (pageItems.length > 0 && chars > 0) {
      const fit = Math.floor(pageChars / (chars / pageItems.length));
      limit = Math.max(1, Math.min(fit, limit * 2, maxItems));
    }
  } while (continueToken);
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion }, items };
}
