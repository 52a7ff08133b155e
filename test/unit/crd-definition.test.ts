// The CRDs built from the schemas: names, printer columns, subresources, and the CEL rules they carry.
import { describe, expect, it } from "vitest";
import { organizationCrd, providerConnectionCrd } from "../../crds/crd.ts";
import { PROVIDER_BLOCK, PROVIDERS } from "../../crds/providerconnection.ts";
import type { SchemaNode } from "../../crds/structural.ts";

const schemaOf = (crd: ReturnType<typeof providerConnectionCrd>) =>
  crd.spec.versions[0]?.schema.openAPIV3Schema as SchemaNode;
const at = (node: SchemaNode, ...path: string[]): SchemaNode =>
  path.reduce(
    (current, name) => (current.properties as Record<string, SchemaNode>)[name] as SchemaNode,
    node,
  );

/** Every node of a schema, with its path. */
function* nodes(node: SchemaNode, path = ""): Generator<[string, SchemaNode]> {
  yield [path, node];
  for (const [name, child] of Object.entries((node.properties as Record<string, SchemaNode>) ?? {})) {
    yield* nodes(child, `${path}.${name}`);
  }
  if (node.items) yield* nodes(node.items as SchemaNode, `${path}[]`);
  if (typeof node.additionalProperties === "object")
    yield* nodes(node.additionalProperties as SchemaNode, `${path}.*`);
}

describe.each([
  ["ProviderConnection", providerConnectionCrd()],
  ["Organization", organizationCrd()],
])("the %s CRD", (kind, crd) => {
  const version = crd.spec.versions[0];

  it("is namespaced, in the modelkeys category, with one served storage version and a status subresource", () => {
    expect(crd.metadata.name).toBe(`${kind.toLowerCase()}s.modelkeys.dev`);
    expect(crd.spec.scope).toBe("Namespaced");
    expect(crd.spec.names.categories).toEqual(["modelkeys"]);
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({
      name: "v1alpha1",
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it("is structural: every node has a type and no object lists both properties and additionalProperties", () => {
    for (const [path, node] of nodes(schemaOf(crd))) {
      expect(node.type, path).toBeTypeOf("string");
      expect(node.properties && node.additionalProperties, path).toBeFalsy();
      for (const key of ["$ref", "anyOf", "oneOf", "allOf", "definitions"])
        expect(node, path).not.toHaveProperty(key);
    }
  });

  it("bounds every string that a CEL rule reads, so the API server can estimate the rule's cost", () => {
    for (const [path, node] of nodes(schemaOf(crd))) {
      const rules = (node["x-kubernetes-validations"] as { rule: string }[] | undefined) ?? [];
      if (node.type === "string" && rules.some((r) => r.rule !== "self == oldSelf")) {
        expect(node.maxLength, path).toBeTypeOf("number");
      }
    }
  });

  it("requires spec and describes the spec's fields", () => {
    const schema = schemaOf(crd);
    expect(schema.required).toEqual(["spec"]);
    expect(at(schema, "spec").description).toBeTypeOf("string");
  });
});

describe("the ProviderConnection CRD", () => {
  const crd = providerConnectionCrd();
  const spec = at(schemaOf(crd), "spec");

  it("has the short names pconn and pc", () => {
    expect(crd.spec.names.shortNames).toEqual(["pconn", "pc"]);
  });

  it("prints Provider, Organization, Scope, Models, Ready, Reason, Key, Rotated (a date) and Age by default", () => {
    const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.filter((c) => !c.priority).map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ["Provider", "string", ".spec.provider"],
      ["Organization", "string", ".spec.organizationRef.name"],
      ["Scope", "string", ".status.scope"],
      ["Models", "integer", ".status.availableModels"],
      ["Ready", "string", '.status.conditions[?(@.type=="Ready")].status'],
      ["Reason", "string", '.status.conditions[?(@.type=="Ready")].reason'],
      ["Key", "string", ".status.credentialFingerprint"],
      ["Rotated", "date", ".status.credentialRotatedTime"],
      ["Age", "date", ".metadata.creationTimestamp"],
    ]);
    expect(columns.filter((c) => c.priority === 1)).toEqual([]);
  });

  it("has one rule per provider block, pointing at that block", () => {
    const rules = spec["x-kubernetes-validations"] as { rule: string; fieldPath: string }[];
    expect(rules.map((r) => r.fieldPath)).toEqual(PROVIDERS.map((p) => `.${PROVIDER_BLOCK[p]}`));
    for (const provider of PROVIDERS) {
      expect(rules).toContainEqual(
        expect.objectContaining({
          rule: `(self.provider == '${provider}') == has(self.${PROVIDER_BLOCK[provider]})`,
        }),
      );
    }
  });

  it("makes provider and organizationRef immutable with transition rules", () => {
    for (const field of ["provider", "organizationRef"]) {
      expect(at(spec, field)["x-kubernetes-validations"]).toEqual([
        { rule: "self == oldSelf", message: `${field} is immutable` },
      ]);
    }
  });

  it("defaults deletionPolicy to Delete and refreshInterval to 1h", () => {
    expect(at(spec, "deletionPolicy")).toMatchObject({ default: "Delete", enum: ["Delete", "Orphan"] });
    expect(at(spec, "refreshInterval")).toMatchObject({ default: "1h" });
  });

  it("limits Azure deployment names and endpoints to the app's 512 characters", () => {
    for (const block of ["azure", "azureAIFoundry"]) {
      expect(at(spec, block, "deployment").maxLength).toBe(512);
      expect(at(spec, block, "endpoint").maxLength).toBe(512);
    }
    expect(at(spec, "custom", "endpoint").maxLength).toBe(512);
  });

  it("lets users select by provider and organization", () => {
    expect(crd.spec.versions[0]?.selectableFields).toEqual([
      { jsonPath: ".spec.provider" },
      { jsonPath: ".spec.organizationRef.name" },
    ]);
  });
});

describe("the Organization CRD", () => {
  it("prints URL, OrgID, Ready, Managed, Unmanaged and Age, and answers to lsorg", () => {
    const columns = organizationCrd().spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.filter((c) => !c.priority).map((c) => [c.name, c.jsonPath])).toEqual([
      ["URL", ".spec.url"],
      ["OrgID", ".status.organizationId"],
      ["Ready", '.status.conditions[?(@.type=="Ready")].status'],
      ["Managed", ".status.app.managed"],
      ["Unmanaged", ".status.app.unmanaged"],
      ["Age", ".metadata.creationTimestamp"],
    ]);
    expect(organizationCrd().spec.names.shortNames).toEqual(["lsorg"]);
  });
});
