import { describe, expect, it } from "vitest";
import { cacheProjection } from "../../operator/kube/projection.ts";

const connection = (name: string) =>
  JSON.parse(
    JSON.stringify({
      apiVersion: "modelkeys.dev/v1alpha1",
      kind: "ProviderConnection",
      metadata: {
        name,
        namespace: "ml-team",
        uid: `uid-${name}`,
        finalizers: ["modelkeys.dev/app-connection"],
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": '{"spec":{}}',
          "modelkeys.dev/refresh": "now",
        },
        managedFields: [{ manager: "kubectl", fieldsV1: { "f:spec": {} } }],
      },
      spec: { provider: "OpenAI", organizationRef: { name: "acme" } },
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "Synced", message: "synced to the app" }],
      },
    }),
  );

describe("cache projection", () => {
  it("keeps the metadata the operator reads and our annotations, and the rest of the object", () => {
    const original = connection("a");
    original.metadata = {
      ...original.metadata,
      generation: 3,
      resourceVersion: "41",
      creationTimestamp: "2026-12-01T10:00:00Z",
      deletionTimestamp: "2026-12-02T10:00:00Z",
    };
    const cached = cacheProjection(structuredClone(original));
    const { managedFields: _m, annotations: _a, ...read } = original.metadata;
    expect(cached).toEqual({
      ...original,
      metadata: { ...read, annotations: { "modelkeys.dev/refresh": "now" } },
    });
  });

  it("drops labels, other tools' annotations, ownerReferences and managedFields, however large", () => {
    const bloated = connection("b");
    const large = "x".repeat(200 * 1024);
    bloated.metadata.labels = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`team.example/l${i}`, "v"]),
    );
    bloated.metadata.annotations = {
      ...bloated.metadata.annotations,
      "example.com/notes": large,
      "argocd.argoproj.io/tracking-id": "apps:modelkeys.dev/ProviderConnection:ml-team/b",
    };
    bloated.metadata.ownerReferences = [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "u" }];
    bloated.metadata.generateName = "b-";
    const cached = cacheProjection(bloated);
    expect(cached.metadata).toEqual({
      name: "b",
      namespace: "ml-team",
      uid: "uid-b",
      finalizers: ["modelkeys.dev/app-connection"],
      annotations: { "modelkeys.dev/refresh": "now" },
    });
    expect(JSON.stringify(cached).length).toBeLessThan(1024);
  });

  it("leaves no empty annotations behind, and an object without metadata as it is", () => {
    const only = connection("c");
    only.metadata.annotations = {
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
      "a.example/b": "c",
    };
    expect("annotations" in cacheProjection(only).metadata).toBe(false);
    const plain = { metadata: { name: "c", namespace: "ns" }, data: { a: "b" } };
    expect(cacheProjection(plain)).toEqual({ metadata: { name: "c", namespace: "ns" }, data: { a: "b" } });
    const bare = { kind: "List", items: [] };
    expect(cacheProjection(bare)).toEqual({ kind: "List", items: [] });
  });
});
