// The resilient informer against the real API server: cache and events, custom resources, bookmarks, restart
// after errors, and a re-list after 410 Gone that reports what was missed (faults injected by a loopback proxy).
import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createInformer,
  type Informer,
  type InformerOptions,
  resourcePath,
} from "../../operator/kube/informer.ts";
import { listAll } from "../../operator/kube/list.ts";
import { testCluster } from "../support/cluster.ts";
import { type FaultProxy, startFaultProxy } from "../support/kube-fault-proxy.ts";
import { waitFor } from "../support/wait.ts";

const CONFIGMAPS = { group: "", version: "v1", plural: "configmaps" };
let namespace: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("informer");
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Recorded<T extends KubernetesObject> {
  informer: Informer<T>;
  events: { type: string; name: string; value?: string }[];
}

function informer<T extends KubernetesObject = V1ConfigMap>(
  options: Partial<InformerOptions<T>> & Pick<InformerOptions<T>, "kc">,
): Recorded<T> {
  const inf = createInformer<T>({
    resource: CONFIGMAPS,
    namespace,
    backoff: { baseMs: 50, maxMs: 200 },
    ...options,
  });
  const events: Recorded<T>["events"] = [];
  for (const type of ["add", "update", "delete"] as const) {
    inf.on(type, (obj) =>
      events.push({
        type,
        name: obj.metadata?.name ?? "",
        value: (obj as unknown as V1ConfigMap).data?.value,
      }),
    );
  }
  cleanups.push(() => inf.stop());
  return { informer: inf, events };
}

async function proxy(): Promise<FaultProxy> {
  const p = await startFaultProxy(testCluster().kubeConfig);
  cleanups.push(() => p.close());
  return p;
}

const core = () => testCluster().core;
const createCm = (name: string, value: string, labels: Record<string, string> = {}) =>
  core().createNamespacedConfigMap({ namespace, body: { metadata: { name, labels }, data: { value } } });
const updateCm = (name: string, value: string) =>
  core().patchNamespacedConfigMap({ name, namespace, body: [{ op: "replace", path: "/data/value", value }] });
const deleteCm = (name: string) => core().deleteNamespacedConfigMap({ name, namespace });

describe("informer", () => {
  it("lists, gets, and reports adds, updates and deletes", async () => {
    const label = { suite: "basic" };
    await createCm("basic-a", "1", label);
    const { informer: inf, events } = informer({
      kc: testCluster().kube,
      labelSelector: "suite=basic",
    });
    expect(inf.hasSynced()).toBe(false);
    await inf.start();
    expect(inf.hasSynced()).toBe(true);
    expect(inf.list().map((c) => c.metadata?.name)).toEqual(["basic-a"]);
    expect(inf.get(namespace, "basic-a")?.data?.value).toBe("1");
    expect(events).toEqual([{ type: "add", name: "basic-a", value: "1" }]);

    await createCm("basic-b", "2", label);
    await updateCm("basic-a", "3");
    await deleteCm("basic-b");
    await createCm("other", "x"); // outside the label selector
    await waitFor(() => events.length >= 4, { description: "four events" });
    expect(events.slice(1)).toEqual([
      { type: "add", name: "basic-b", value: "2" },
      { type: "update", name: "basic-a", value: "3" },
      { type: "delete", name: "basic-b", value: "2" },
    ]);
    expect(inf.get(namespace, "basic-a")?.data?.value).toBe("3");
    expect(inf.get(namespace, "other")).toBeUndefined();
  });

  it("watches a custom resource by path", async () => {
    const { custom } = testCluster();
    const { informer: inf, events } = informer<KubernetesObject & { spec: { url: string } }>({
      kc: testCluster().kube,
      path: `/apis/modelkeys.dev/v1alpha1/namespaces/${namespace}/organizations`,
    });
    await inf.start();
    await custom.createNamespacedCustomObject({
      group: "modelkeys.dev",
      version: "v1alpha1",
      namespace,
      plural: "organizations",
      body: {
        apiVersion: "modelkeys.dev/v1alpha1",
        kind: "Organization",
        metadata: { name: "acme" },
        spec: { url: "https://label-studio.acme.internal", tokenSecretRef: { name: "ls", key: "token" } },
      },
    });
    await waitFor(() => inf.get(namespace, "acme"), { description: "the Organization in the cache" });
    expect(inf.get(namespace, "acme")?.spec.url).toBe("https://label-studio.acme.internal");
    expect(events.map((e) => e.type)).toEqual(["add"]);
  });

  it("asks for bookmarks, which advance its resourceVersion past filtered-out changes, and resumes without re-listing", async () => {
    const p = await proxy();
    const { informer: inf, events } = informer({
      kc: p.kube,
      labelSelector: "suite=bookmarks",
      // The server closes each watch after 4s and sends a bookmark 2s before that (if it has a newer RV).
      watchTimeoutSeconds: () => 4,
    });
    await inf.start();
    // Changes made before the server registers the watch are replayed silently; wait until it is open.
    await waitFor(() => p.openWatches() > 0, { description: "the watch open" });
    // A change this watch filters out: the server tells us about its RV only through a bookmark.
    const noise = await createCm("bookmark-noise", "1", { suite: "other" });
    const noiseRv = Number(noise.metadata?.resourceVersion);
    await waitFor(() => inf.status().bookmarks >= 1, { timeoutMs: 15_000, description: "a bookmark" });
    const watchRvs = () =>
      p.requests
        .filter((r) => r.includes("watch=true"))
        .map((r) => new URL(r.split(" ")[1] as string, "http://x").searchParams);
    await waitFor(() => watchRvs().some((q) => Number(q.get("resourceVersion")) >= noiseRv), {
      timeoutMs: 15_000,
      description: "a watch resumed from the bookmark's resourceVersion",
    });
    for (const q of watchRvs()) {
      expect(q.get("allowWatchBookmarks")).toBe("true");
      expect(q.get("resourceVersion")).toMatch(/^[0-9]+$/);
    }
    expect(p.requests.filter((r) => !r.includes("watch=true"))).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it("restarts with backoff after errors and recovers", async () => {
    const p = await proxy();
    const isList = (u: URL) => u.pathname.endsWith("/configmaps") && u.searchParams.get("watch") !== "true";
    const isWatch = (u: URL) => u.searchParams.get("watch") === "true";
    p.fail(isList, 500, 3);
    await createCm("restart-a", "1", { suite: "restart" });
    const { informer: inf, events } = informer({ kc: p.kube, labelSelector: "suite=restart" });
    await inf.start();
    expect(inf.status().restarts).toBeGreaterThanOrEqual(3);
    expect(inf.status().failingSinceMs).toBeUndefined();
    expect(inf.list()).toHaveLength(1);

    // A watch that fails (not 410) also stops client-node's ListWatch; ours comes back.
    const restarts = inf.status().restarts;
    p.fail(isWatch, 503, 2);
    p.expireWatches(); // close the current watch so that the next one meets the faults
    await createCm("restart-b", "2", { suite: "restart" });
    await waitFor(() => inf.get(namespace, "restart-b"), { description: "restart-b after recovery" });
    expect(inf.status().restarts).toBeGreaterThan(restarts);
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual(["add restart-a", "add restart-b"]);
  });

  it("re-lists on 410 Gone and reports what it missed, deletes included", async () => {
    const p = await proxy();
    await createCm("gone-a", "1", { suite: "gone" });
    await createCm("gone-b", "1", { suite: "gone" });
    const { informer: inf, events } = informer({ kc: p.kube, labelSelector: "suite=gone" });
    await inf.start();
    expect(events.map((e) => `${e.type} ${e.name}`).sort()).toEqual(["add gone-a", "add gone-b"]);

    // A partition: the watch stays open but delivers nothing while the world changes.
    p.swallowWatchEvents(true);
    await updateCm("gone-a", "2");
    await deleteCm("gone-b");
    await createCm("gone-c", "1", { suite: "gone" });
    const listsBefore = p.requests.filter((r) => !r.includes("watch=true")).length;
    p.swallowWatchEvents(false);
    expect(p.expireWatches()).toBe(1);

    await waitFor(() => inf.get(namespace, "gone-c") && !inf.get(namespace, "gone-b"), {
      description: "cache converged after re-list",
    });
    expect(p.requests.filter((r) => !r.includes("watch=true")).length).toBe(listsBefore + 1);
    expect(inf.get(namespace, "gone-a")?.data?.value).toBe("2");
    expect(
      events
        .slice(2)
        .map((e) => `${e.type} ${e.name}`)
        .sort(),
    ).toEqual(["add gone-c", "delete gone-b", "update gone-a"]);
    expect(inf.status().restarts).toBe(0); // 410 is handled by re-listing, not by an error restart
  });

  it("re-lists when the watch request itself answers 410 Gone", async () => {
    const p = await proxy();
    await createCm("gone410-a", "1", { suite: "gone410" });
    const { informer: inf, events } = informer({ kc: p.kube, labelSelector: "suite=gone410" });
    await inf.start();
    await waitFor(() => p.openWatches() > 0, { description: "the watch open" });
    const isWatch = (u: URL) => u.searchParams.get("watch") === "true";
    const lists = () => p.requests.filter((r) => !r.includes("watch=true")).length;
    expect(lists()).toBe(1);
    // The next watch request is answered 410 at once (its resourceVersion too old), with a change made meanwhile.
    p.fail(isWatch, 410, 1);
    p.swallowWatchEvents(true);
    await updateCm("gone410-a", "2");
    p.swallowWatchEvents(false);
    p.expireWatches();
    await waitFor(() => inf.get(namespace, "gone410-a")?.data?.value === "2", {
      description: "the change seen through the re-list",
    });
    expect(lists()).toBe(3); // the first list, the one after the ERROR event's 410, the one after the 410 answer
    expect(events.map((e) => `${e.type} ${e.name} ${e.value}`)).toEqual([
      "add gone410-a 1",
      "update gone410-a 2",
    ]);
    expect(inf.status().restarts).toBe(0);
  });

  it("reopens a watch that stays silent past its idle timeout from where it was, without a list", async () => {
    const p = await proxy();
    const { informer: inf, events } = informer({
      kc: p.kube,
      labelSelector: "suite=idle",
      watchIdleTimeoutMs: 1000,
    });
    await inf.start();
    const watches = () => p.requests.filter((r) => r.includes("watch=true"));
    // A partition: the stream stays open but nothing arrives, not even bookmarks.
    p.swallowWatchEvents(true);
    await waitFor(() => watches().length >= 3, {
      timeoutMs: 15_000,
      description: "the watch reopened twice",
    });
    p.swallowWatchEvents(false);
    await createCm("idle-a", "1", { suite: "idle" });
    await waitFor(() => inf.get(namespace, "idle-a"), { description: "idle-a through a reopened watch" });
    expect(p.requests.filter((r) => !r.includes("watch=true"))).toHaveLength(1);
    const versions = watches().map((r) =>
      new URL(r.split(" ")[1] as string, "http://x").searchParams.get("resourceVersion"),
    );
    expect(new Set(versions).size).toBe(1);
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual(["add idle-a"]);
    expect(inf.status().restarts).toBe(0);
  });

  it("lists every page of a large collection", async () => {
    for (const i of [1, 2, 3, 4, 5]) await createCm(`page-${i}`, String(i), { suite: "pages" });
    const p = await proxy();
    const list = await listAll(p.kube, resourcePath(CONFIGMAPS, namespace), {
      labelSelector: "suite=pages",
      pageSize: 2,
    });
    expect(list.items.map((i) => i.metadata?.name).sort()).toEqual([
      "page-1",
      "page-2",
      "page-3",
      "page-4",
      "page-5",
    ]);
    expect(p.requests.filter((r) => r.includes("limit=2"))).toHaveLength(3);
    expect(list.metadata?.resourceVersion).toMatch(/^[0-9]+$/);
    // Each item goes through `project` as its page arrives (what the informer caches, without managedFields).
    const names = await listAll(p.kube, resourcePath(CONFIGMAPS, namespace), {
      labelSelector: "suite=pages",
      pageSize: 2,
      project: (item) => ({ name: item.metadata?.name, managed: item.metadata?.managedFields !== undefined }),
    });
    expect(names.items.map((i) => i.name).sort()).toEqual(["page-1", "page-2", "page-3", "page-4", "page-5"]);
    expect(names.items.every((i) => i.managed)).toBe(true);
  });

  it("reads a collection of large objects a few pages of bounded size at a time, and grows pages of small ones", async () => {
    // Names sort large before small: 60 objects of 64 KiB, then 60 of a few bytes.
    const large = "x".repeat(64 * 1024);
    const names = [
      ...Array.from({ length: 60 }, (_, i) => `sized-a-${String(i).padStart(2, "0")}`),
      ...Array.from({ length: 60 }, (_, i) => `sized-b-${String(i).padStart(2, "0")}`),
    ];
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names
          .slice(i, i + 20)
          .map((name) => createCm(name, name.startsWith("sized-a") ? large : "s", { suite: "sized" })),
      );
    }
    const p = await proxy();
    const pageChars = 512 * 1024;
    const list = await listAll(p.kube, resourcePath(CONFIGMAPS, namespace), {
      labelSelector: "suite=sized",
      pageChars,
    });
    expect(list.items.map((i) => i.metadata?.name).sort()).toEqual(names);
    const limits = p.requests
      .map((r) => new URL(r.slice(r.indexOf(" ") + 1), "https://api-server"))
      .filter((url) => url.searchParams.get("labelSelector") === "suite=sized")
      .map((url) => Number(url.searchParams.get("limit")));
    // The first page asks for 50; once it has seen 64 KiB objects, a page asks for what fits in 512 KiB …
    expect(limits[0]).toBe(50);
    expect(limits[1]).toBeLessThanOrEqual(Math.floor(pageChars / large.length));
    // … and once the objects are small again, pages grow (doubling), never past 500.
    expect(Math.max(...limits.slice(2))).toBeGreaterThan(limits[1] as number);
    expect(Math.max(...limits)).toBeLessThanOrEqual(500);
  });

  it("applies transform before caching", async () => {
    await createCm("transform-a", "secret-ish", { suite: "transform" });
    const { informer: inf } = informer({
      kc: testCluster().kube,
      labelSelector: "suite=transform",
      transform: (obj) => ({ ...obj, data: { value: "hashed" } }) as V1ConfigMap,
    });
    await inf.start();
    expect(inf.get(namespace, "transform-a")?.data).toEqual({ value: "hashed" });
    await updateCm("transform-a", "changed");
    await waitFor(() => inf.get(namespace, "transform-a")?.metadata?.resourceVersion !== undefined);
    await waitFor(
      async () =>
        inf.get(namespace, "transform-a")?.metadata?.resourceVersion ===
        (await core().readNamespacedConfigMap({ name: "transform-a", namespace })).metadata?.resourceVersion,
      { description: "the update in the cache" },
    );
    expect(inf.get(namespace, "transform-a")?.data).toEqual({ value: "hashed" });
  });
});
