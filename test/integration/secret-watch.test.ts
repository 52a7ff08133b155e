// One metadata-only watch of Secrets, as the operator's own identity: a change of a referenced Secret reaches
// onChange, an unreferenced one does not, delete + re-create counts as a change, and no value reaches the cache.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAll } from "../../operator/kube/list.ts";
import { metadataOnly } from "../../operator/kube/metadata-only.ts";
import { KubeObjects } from "../../operator/kube/objects.ts";
import { createSecretWatch, type SecretWatch, toSecretStub } from "../../operator/kube/secret-watch.ts";
import { testCluster } from "../support/cluster.ts";
import { waitFor } from "../support/wait.ts";

const CANARY = "sk-canary-secret-watch-0123456789abcdef";
let namespace: string;
let watch: SecretWatch;
const changes: string[] = [];

const core = () => testCluster().core;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const createSecret = (name: string, value: string) =>
  core().createNamespacedSecret({ namespace, body: { metadata: { name }, data: { "api-key": b64(value) } } });
const setValue = (name: string, value: string) =>
  core().patchNamespacedSecret({
    name,
    namespace,
    body: [{ op: "replace", path: "/data/api-key", value: b64(value) }],
  });
const setLabel = (name: string, value: string) =>
  core().patchNamespacedSecret({
    name,
    namespace,
    body: [{ op: "add", path: "/metadata/labels", value: { touched: value } }],
  });

/** The API server's count of its reads of Secrets from etcd (its own metric; the watch cache's answers are not). */
async function etcdSecretReads(): Promise<number> {
  const { stdout } = await testCluster().kubectl(["get", "--raw", "/metrics"]);
  const line = stdout
    .split("\n")
    .find(
      (l) =>
        l.startsWith("etcd_request_duration_seconds_count{") && /operation="get",resource="secrets"/.test(l),
    );
  return Number(line?.split(" ").pop() ?? 0);
}

/** Count of onChange calls for `name`. */
const count = (name: string) => changes.filter((c) => c === `${namespace}/${name}`).length;

/**
 * Makes a change to a watched Secret and waits for it: a barrier after which earlier changes that would have
 * produced onChange calls have had every chance to arrive.
 */
async function barrier(): Promise<void> {
  const before = count("barrier");
  await setValue("barrier", `v${Date.now()}-${Math.random()}`);
  await waitFor(() => count("barrier") > before, { description: "the barrier Secret's change" });
}

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  namespace = await cluster.createTestNamespace("secret-watch");
  for (const name of ["referenced", "shared", "unreferenced", "barrier"])
    await createSecret(name, `${CANARY}-${name}`);
  // The operator's identity, with the install's RBAC: proves the metadata watch needs nothing more.
  watch = createSecretWatch({
    kc: cluster.operator.kube,
    namespaces: [namespace],
    onChange: (ns, name) => changes.push(`${ns}/${name}`),
  });
  watch.track(namespace, "referenced", "ProviderConnection/a");
  watch.track(namespace, "shared", "ProviderConnection/a");
  watch.track(namespace, "shared", "ProviderConnection/b");
  watch.track(namespace, "barrier", "Organization/org");
  await watch.start();
});

afterAll(async () => {
  await watch?.stop();
});

describe("secret watch", () => {
  it("knows which Secrets are referenced, and by whom", () => {
    expect(watch.watched().sort()).toEqual(
      [`${namespace}/barrier`, `${namespace}/referenced`, `${namespace}/shared`].sort(),
    );
    expect(watch.referrers(namespace, "shared").sort()).toEqual([
      "ProviderConnection/a",
      "ProviderConnection/b",
    ]);
    expect(watch.referrers(namespace, "referenced")).toEqual(["ProviderConnection/a"]);
    expect(watch.referrers(namespace, "unreferenced")).toEqual([]);
  });

  it("keeps a resourceVersion, never the value; the API server sends metadata only", async () => {
    expect(watch.version(namespace, "referenced")).toMatch(/^\d+$/);
    const stub = toSecretStub({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "x", namespace: "y", resourceVersion: "1", labels: { a: "b" } },
      data: { "api-key": b64(CANARY) },
    } as never);
    expect(stub).toEqual({ metadata: { name: "x", namespace: "y", resourceVersion: "1" } });
    // What the watch lists: PartialObjectMetadata, with no data at all.
    const list = await listAll(
      metadataOnly(testCluster().operator.kube),
      `/api/v1/namespaces/${namespace}/secrets`,
    );
    expect(list.items.length).toBeGreaterThanOrEqual(4);
    expect(list.items.every((item) => item.kind === "PartialObjectMetadata")).toBe(true);
    expect(JSON.stringify(list)).not.toContain(b64(CANARY));
  });

  it("calls onChange when a referenced Secret's value changes, and not for an unreferenced one", async () => {
    const before = { referenced: count("referenced"), shared: count("shared") };
    const version = watch.version(namespace, "referenced");
    await setValue("unreferenced", `${CANARY}-rotated-u`);
    await setValue("referenced", `${CANARY}-rotated`);
    await waitFor(() => count("referenced") > before.referenced, { description: "onChange for referenced" });
    await barrier();
    expect(count("referenced")).toBe(before.referenced + 1);
    expect(count("unreferenced")).toBe(0);
    expect(count("shared")).toBe(before.shared);
    expect(watch.version(namespace, "referenced")).not.toBe(version);
  });

  it("reports a label edit as a change too (a look again: the reconcile finds the same fingerprint)", async () => {
    const before = count("referenced");
    await setLabel("referenced", "yes");
    await waitFor(() => count("referenced") === before + 1, { description: "onChange for the label edit" });
  });

  it("reports a delete and a re-create as changes", async () => {
    const before = count("referenced");
    await core().deleteNamespacedSecret({ name: "referenced", namespace });
    await waitFor(() => count("referenced") === before + 1, { description: "onChange for the delete" });
    expect(watch.version(namespace, "referenced")).toBe("absent");
    await createSecret("referenced", `${CANARY}-recreated`);
    await waitFor(() => count("referenced") === before + 2, { description: "onChange for the re-create" });
    expect(watch.version(namespace, "referenced")).toMatch(/^\d+$/);
  });

  it("knows a Secret referenced before it exists is absent, and reports its creation", async () => {
    watch.track(namespace, "later", "ProviderConnection/c");
    expect(watch.version(namespace, "later")).toBe("absent");
    const before = count("later");
    await createSecret("later", `${CANARY}-later`);
    await waitFor(() => count("later") === before + 1, { description: "onChange for the creation" });
  });

  it("stops reporting a Secret once nobody references it", async () => {
    watch.untrack("ProviderConnection/c");
    watch.untrack("ProviderConnection/a");
    expect(watch.watched()).not.toContain(`${namespace}/referenced`);
    expect(watch.watched()).toContain(`${namespace}/shared`); // b still references it
    expect(watch.referrers(namespace, "shared")).toEqual(["ProviderConnection/b"]);
    const before = { referenced: count("referenced"), shared: count("shared") };
    await setValue("referenced", `${CANARY}-after-untrack`);
    await setValue("shared", `${CANARY}-shared-after-untrack`);
    await waitFor(() => count("shared") === before.shared + 1, { description: "onChange for shared" });
    await barrier();
    expect(count("referenced")).toBe(before.referenced);
  });

  it("serves a second subscriber from the same watch: each hears only of the Secrets it references", async () => {
    const heard: string[] = [];
    const accounts = watch.subscribe((ns, name) => heard.push(`${ns}/${name}`));
    accounts.track(namespace, "unreferenced", "AzureOpenAIAccount/acct");
    expect(accounts.referrers(namespace, "unreferenced")).toEqual(["AzureOpenAIAccount/acct"]);
    // The first subscriber's references are its own.
    expect(watch.referrers(namespace, "unreferenced")).toEqual([]);
    expect(accounts.referrers(namespace, "shared")).toEqual([]);
    const before = { unreferenced: count("unreferenced"), shared: count("shared") };
    await setValue("unreferenced", `${CANARY}-for-the-second`);
    await waitFor(() => heard.includes(`${namespace}/unreferenced`), {
      description: "the second subscriber hears of its Secret",
    });
    await setValue("shared", `${CANARY}-shared-again`);
    await waitFor(() => count("shared") === before.shared + 1, { description: "the first hears of shared" });
    await barrier();
    expect(count("unreferenced")).toBe(before.unreferenced);
    expect(heard).toEqual([`${namespace}/unreferenced`]);
  });

  it("reads a value at the version it saw from the API server's cache, not etcd, and never an older one", async () => {
    const objects = new KubeObjects(testCluster().operator.kube, "secret-watch-test");
    const rotated = `${CANARY}-read-at-version`;
    const patched = await setValue("shared", rotated);
    await waitFor(() => watch.seenVersion(namespace, "shared") === patched.metadata?.resourceVersion, {
      description: "the watch sees the new version",
    });
    const reads = 50;
    const readAll = (version: string | undefined) =>
      Promise.all(Array.from({ length: reads }, () => objects.readSecret(namespace, "shared", version)));

    // Without a version each read is a quorum read from etcd: this proves the metric counts them.
    let before = await etcdSecretReads();
    expect((await readAll(undefined)).every((data) => data?.["api-key"] === rotated)).toBe(true);
    expect((await etcdSecretReads()) - before).toBeGreaterThanOrEqual(reads);

    before = await etcdSecretReads();
    const atVersion = await readAll(watch.seenVersion(namespace, "shared"));
    expect(atVersion.every((data) => data?.["api-key"] === rotated)).toBe(true);
    // Other test files may read Secrets meanwhile; most of ours must not have reached etcd.
    expect((await etcdSecretReads()) - before).toBeLessThan(reads / 2);
    expect(watch.seenVersion(namespace, "never-created")).toBeUndefined();
  });

  it("reads from etcd when the API server's cache has not reached the version asked for", async () => {
    const objects = new KubeObjects(testCluster().operator.kube, "secret-watch-test");
    const value = `${CANARY}-from-etcd`;
    const patched = await setValue("shared", value);
    // A version from the future, as another API server's watch could have handed us: this one waits, then 504.
    const future = String(Number(patched.metadata?.resourceVersion) + 1_000_000);
    expect((await objects.readSecret(namespace, "shared", future))?.["api-key"]).toBe(value);
  });
});
