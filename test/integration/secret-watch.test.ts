// Watching only the referenced Secrets, as the operator's own identity: a change of a referenced Secret reaches
// onChange, an unreferenced one is not even watched, and delete + re-create counts as a change.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  // The operator's identity, with the install's RBAC: proves per-name watches need nothing more.
  watch = createSecretWatch({
    kc: cluster.operator.kubeConfig,
    onChange: (ns, name) => changes.push(`${ns}/${name}`),
  });
  watch.track(namespace, "referenced", "ProviderConnection/a");
  watch.track(namespace, "shared", "ProviderConnection/a");
  watch.track(namespace, "shared", "ProviderConnection/b");
  watch.track(namespace, "barrier", "Organization/org");
  await waitFor(() => watch.hasSynced() && count("referenced") + count("shared") + count("barrier") === 3, {
    description: "watches synced (one initial onChange each)",
  });
});

afterAll(async () => {
  await watch?.stop();
});

describe("secret watch", () => {
  it("watches only the referenced Secrets, each once, and knows who references them", () => {
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

  it("keeps a fingerprint, never the value", () => {
    const fingerprint = watch.fingerprint(namespace, "referenced");
    expect(fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const stub = toSecretStub({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "x", namespace: "y", resourceVersion: "1" },
      data: { "api-key": b64(CANARY) },
    } as never);
    expect(Object.keys(stub).sort()).toEqual(["apiVersion", "fingerprint", "kind", "metadata"]);
    expect(JSON.stringify(stub)).not.toContain(b64(CANARY));
    expect(JSON.stringify(stub)).not.toContain(CANARY);
  });

  it("calls onChange when a referenced Secret's value changes, and not for an unreferenced one", async () => {
    const before = { referenced: count("referenced"), shared: count("shared") };
    const fingerprint = watch.fingerprint(namespace, "referenced");
    await setValue("unreferenced", `${CANARY}-rotated-u`);
    await setValue("referenced", `${CANARY}-rotated`);
    await waitFor(() => count("referenced") > before.referenced, { description: "onChange for referenced" });
    await barrier();
    expect(count("referenced")).toBe(before.referenced + 1);
    expect(count("unreferenced")).toBe(0);
    expect(count("shared")).toBe(before.shared);
    expect(watch.fingerprint(namespace, "referenced")).not.toBe(fingerprint);
  });

  it("ignores edits that leave the data alone", async () => {
    const before = count("referenced");
    await setLabel("referenced", "yes");
    await barrier();
    expect(count("referenced")).toBe(before);
  });

  it("reports a delete and a re-create as changes", async () => {
    const before = count("referenced");
    await core().deleteNamespacedSecret({ name: "referenced", namespace });
    await waitFor(() => count("referenced") === before + 1, { description: "onChange for the delete" });
    expect(watch.fingerprint(namespace, "referenced")).toBe("absent");
    await createSecret("referenced", `${CANARY}-recreated`);
    await waitFor(() => count("referenced") === before + 2, { description: "onChange for the re-create" });
    expect(watch.fingerprint(namespace, "referenced")).toMatch(/^sha256:/);
  });

  it("watches a Secret referenced before it exists, and reports its creation", async () => {
    watch.track(namespace, "later", "ProviderConnection/c");
    await waitFor(() => watch.fingerprint(namespace, "later") === "absent", {
      description: "later known absent",
    });
    const before = count("later");
    await createSecret("later", `${CANARY}-later`);
    await waitFor(() => count("later") === before + 1, { description: "onChange for the creation" });
  });

  it("keeps a watch across untrack + track in one tick, and stops it when nobody references the Secret", async () => {
    const initial = count("shared");
    watch.untrack("ProviderConnection/b");
    watch.track(namespace, "shared", "ProviderConnection/b");
    watch.untrack("ProviderConnection/c");
    await barrier();
    expect(count("shared")).toBe(initial); // no new watch, so no initial onChange
    expect(watch.watched()).toContain(`${namespace}/shared`);
    expect(watch.watched()).not.toContain(`${namespace}/later`);

    watch.untrack("ProviderConnection/a");
    await barrier();
    expect(watch.watched()).not.toContain(`${namespace}/referenced`);
    expect(watch.watched()).toContain(`${namespace}/shared`); // b still references it
    const before = count("referenced");
    await setValue("referenced", `${CANARY}-after-untrack`);
    await barrier();
    expect(count("referenced")).toBe(before);
  });
});
