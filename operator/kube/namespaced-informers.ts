// One informer per watched namespace, seen as one: a namespaced install may list and watch only in the
// namespaces its Roles cover, so "watch a, b" is a watch in a and a watch in b, never a cluster-wide one.
import { createInformer, type Informer, type InformerOptions, type KubernetesObject } from "./informer.ts";

/** Options of {@link createNamespacedInformers}: those of one informer, with a list of namespaces. */
export type NamespacedInformersOptions<T extends KubernetesObject> = Omit<InformerOptions<T>, "namespace"> & {
  /** The namespaces to watch; undefined means one informer for all namespaces. */
  namespaces: readonly string[] | undefined;
};

/**
 * An informer of a namespaced resource over a list of namespaces.
 *
 * Guarantees: one list+watch per namespace (none cluster-wide when namespaces are given); `list()` is the union,
 * `get` and `list(ns)` ask the namespace's own informer (an unwatched namespace has nothing); handlers see the
 * events of every namespace; synced once every namespace has listed; each namespace restarts on its own.
 */
export function createNamespacedInformers<T extends KubernetesObject>(
  options: NamespacedInformersOptions<T>,
): Informer<T> {
  const { namespaces, ...common } = options;
  if (namespaces === undefined) return createInformer<T>(common);
  const byNamespace = new Map(
    namespaces.map((namespace) => [
      namespace,
      createInformer<T>({
        ...common,
        namespace,
        name: `${common.name ?? common.resource?.plural ?? "informer"}@${namespace}`,
      }),
    ]),
  );
  const all = [...byNamespace.values()];
  return {
    list: (namespace) =>
      namespace === undefined ? all.flatMap((i) => i.list()) : (byNamespace.get(namespace)?.list() ?? []),
    get: (namespace, name) =>
      namespace === undefined ? undefined : byNamespace.get(namespace)?.get(namespace, name),
    on(event, handler) {
      const offs = all.map((i) => i.on(event, handler));
      return () => {
        for (const off of offs) off();
      };
    },
    hasSynced: () => all.every((i) => i.hasSynced()),
    status() {
      const each = all.map((i) => i.status());
      const failing = each.map((s) => s.failingSinceMs).filter((ms): ms is number => ms !== undefined);
      return {
        started: each.every((s) => s.started),
        synced: each.every((s) => s.synced),
        failingSinceMs: failing.length ? Math.min(...failing) : undefined,
        restarts: each.reduce((sum, s) => sum + s.restarts, 0),
        bookmarks: each.reduce((sum, s) => sum + s.bookmarks, 0),
      };
    },
    start: async () => {
      await Promise.all(all.map((i) => i.start()));
    },
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
