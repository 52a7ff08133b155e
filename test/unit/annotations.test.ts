// Every modelkeys.dev/ annotation the README or a doc comment mentions is one the operator acts on, and each of
// those has a test that proves it.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ANNOTATIONS, API_ANNOTATION_PREFIX } from "../../crds/index.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { ACCOUNT_FINALIZER } from "../../operator/azure/account.ts";
import { FINALIZER, ORGANIZATION_FINALIZER, TOKEN_FINALIZER } from "../../operator/constants.ts";
import { HOLDER_ANNOTATION, STACK_ANNOTATION, STATE_SECRET_TYPE } from "../../operator/pulumi-state/names.ts";

/** modelkeys.dev/ names that are not annotations: the finalizers, labels, API versions. */
const NOT_ANNOTATIONS = new Set([
  FINALIZER,
  ORGANIZATION_FINALIZER,
  TOKEN_FINALIZER,
  ACCOUNT_FINALIZER, // also the label on an AzureOpenAIAccount's key Secret
  "modelkeys.dev/test", // label on the tests' namespaces
  // The Pulumi state Secrets and Leases: their type and label, and what the operator records on them.
  STATE_SECRET_TYPE,
  "modelkeys.dev/pulumi-state",
  STACK_ANNOTATION,
  HOLDER_ANNOTATION,
]);

/** The test that proves the operator acts on each annotation. */
const PROVEN_BY: Record<keyof typeof ANNOTATIONS, string> = {
  refreshRequestedAt: "test/integration/model-refresh.test.ts",
  releaseFinalizer: "test/integration/deletion.test.ts",
  syncRequestedAt: "test/integration/sync-request.test.ts",
  rotateKeyRequestedAt: "test/integration/azure-provisioning.test.ts",
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "imports" || entry === "node_modules" || entry === "dist") return [];
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") || path.endsWith(".md") ? [path] : [];
  });
}

function mentioned(text: string): string[] {
  return [...text.matchAll(/modelkeys\.dev\/[a-z][a-z0-9-]*/g)]
    .map((m) => m[0])
    .filter((name) => !/^modelkeys\.dev\/v\d/.test(name));
}

describe("annotations", () => {
  const files = [
    join(REPO_ROOT, "README.md"),
    ...["crds", "operator", "cdk8s", "kubectl-modelkeys", "pulumi"].flatMap((d) =>
      sources(join(REPO_ROOT, d)),
    ),
  ];

  it("every modelkeys.dev/ name in the README and the sources is an annotation the operator acts on", () => {
    const known = new Set<string>(Object.values(ANNOTATIONS));
    const unknown = files.flatMap((file) =>
      mentioned(readFileSync(file, "utf8"))
        .filter((name) => !known.has(name) && !NOT_ANNOTATIONS.has(name))
        .map((name) => `${file.slice(REPO_ROOT.length + 1)}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("each annotation has a test that sets it and checks what the operator did", () => {
    for (const [key, file] of Object.entries(PROVEN_BY)) {
      const name = ANNOTATIONS[key as keyof typeof ANNOTATIONS];
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      expect(text.includes(name) || text.includes(`ANNOTATIONS.${key}`), `${file} sets ${name}`).toBe(true);
    }
  });

  it("every annotation starts with the API's prefix, the only annotations the operator's caches keep", () => {
    for (const name of Object.values(ANNOTATIONS))
      expect(name.startsWith(API_ANNOTATION_PREFIX), name).toBe(true);
  });

  it("the README documents every annotation", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    for (const name of Object.values(ANNOTATIONS)) expect(readme).toContain(name);
  });
});
