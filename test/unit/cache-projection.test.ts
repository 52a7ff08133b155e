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
  it("drops managedFields and the last-applied copy, keeps everything else", () => {
    const original = connection("a");
    const cached = cacheProjection(connection("a"));
    expect(cached.metadata.managedFields).toBeUndefined();
    expect(cached.metadata.annotations).toEqual({ "modelkeys.dev/refresh": "now" });
    const { managedFields: _m, annotations: _a, ...metadata } = original.metadata;
    expect(cached).toEqual({
      ...original,
      metadata: { ...metadata, annotations: { "modelkeys.dev/refresh": "now" } },
    });
  });

  it("leaves no empty annotations behind, and an object without bookkeeping as it is", () => {
    const only = connection("b");
    only.metadata.annotations = { "kubectl.kubernetes.io/last-applied-configuration": "{}" };
    expect("annotations" in cacheProjection(only).metadata).toBe(false);
    const plain = { metadata: { name: "c", namespace: "ns" }, data: { a: "b" } };
    expect(cacheProjection(plain)).toEqual({ metadata: { name: "c", namespace: "ns" }, data: { a: "b" } });
  });
});
