import { describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { needsReconcile } from "../../operator/watches.ts";

const base = {
  apiVersion: "modelkeys.dev/v1alpha1",
  kind: "ProviderConnection",
  metadata: { name: "c", namespace: "ml", generation: 1, resourceVersion: "1", finalizers: ["other"] },
  spec: { organizationRef: { name: "acme" }, provider: "OpenAI" },
} as unknown as ProviderConnection;
const with_ = (patch: Partial<ProviderConnection["metadata"]>, status?: object): ProviderConnection =>
  ({ ...base, metadata: { ...base.metadata, ...patch, resourceVersion: "2" }, status }) as ProviderConnection;

describe("which updates ask for a reconcile", () => {
  it.each([
    ["a spec change (generation)", with_({ generation: 2 }), true],
    ["an annotation of ours", with_({ annotations: { "modelkeys.dev/refresh-requested-at": "now" } }), true],
    ["a label (no reconcile reads labels)", with_({ labels: { a: "b" } }), false],
    ["another tool's annotation", with_({ annotations: { "argocd.argoproj.io/tracking-id": "a:b" } }), false],
    ["the deletion mark", with_({ deletionTimestamp: "2026-12-01T00:00:00Z" }), true],
    ["someone else's finalizer", with_({ finalizers: [] }), true],
    ["our finalizer removed", with_({ finalizers: ["other"] }), true],
    ["only a status change", with_({}, { appConnectionId: 3 }), false],
    [
      "only our finalizer added (the pass that added it goes on)",
      with_({ finalizers: ["other", FINALIZER] }),
      false,
    ],
  ])("%s → %s", (_what, current, expected) => {
    const previous = _what === "our finalizer removed" ? with_({ finalizers: ["other", FINALIZER] }) : base;
    expect(needsReconcile(previous, current)).toBe(expected);
  });

  it("reconciles when the previous object is not known (a re-list)", () => {
    expect(needsReconcile(undefined, base)).toBe(true);
  });
});
