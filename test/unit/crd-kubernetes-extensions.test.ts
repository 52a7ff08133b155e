// Kubernetes-only keys for zod schemas defined outside crds/ (the shared Azure account schema): they reach the
// CRD at every place the schema instance appears, and nowhere else.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { azureOpenAIAccountCrd } from "../../crds/crd.ts";
import { applyKubernetesExtensions, withKubernetes } from "../../crds/kubernetes-extensions.ts";
import { AccountSettings } from "../../pulumi/account-schema.ts";

const toJson = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", override: applyKubernetesExtensions });

describe("withKubernetes", () => {
  it("adds its keys wherever the instance appears, appends rules, and leaves zod's parsing alone", () => {
    const Name = z.string().max(8);
    withKubernetes(Name, { "x-kubernetes-validations": [{ rule: "self != 'a'", message: "not a" }] });
    withKubernetes(Name, { "x-kubernetes-validations": [{ rule: "self != 'b'", message: "not b" }] });
    const Other = z.string().max(8);
    const json = toJson(z.object({ one: Name, many: z.array(Name), other: Other })) as {
      properties: Record<string, Record<string, unknown> & { items?: Record<string, unknown> }>;
    };
    const rules = [
      { rule: "self != 'a'", message: "not a" },
      { rule: "self != 'b'", message: "not b" },
    ];
    expect(json.properties.one?.["x-kubernetes-validations"]).toEqual(rules);
    expect(json.properties.many?.items?.["x-kubernetes-validations"]).toEqual(rules);
    expect(json.properties.other?.["x-kubernetes-validations"]).toBeUndefined();
    expect(Name.parse("a")).toBe("a");
  });

  it("puts the shared schema's fields into the AzureOpenAIAccount CRD unchanged, with the CEL rules beside them", () => {
    const spec = azureOpenAIAccountCrd().spec.versions[0]?.schema.openAPIV3Schema.properties as {
      spec: { properties: Record<string, Record<string, unknown>> };
    };
    const fields = spec.spec.properties;
    for (const field of Object.keys(AccountSettings.shape)) expect(fields[field], field).toBeDefined();
    const networkRules = fields.networkRules as {
      "x-kubernetes-validations": unknown[];
      properties: Record<string, { items: Record<string, unknown> }>;
    };
    expect(networkRules["x-kubernetes-validations"]).toHaveLength(1);
    expect(networkRules.properties.ipRules?.items["x-kubernetes-validations"]).toHaveLength(3);
    expect(networkRules.properties.virtualNetworkSubnetIds?.items["x-kubernetes-validations"]).toHaveLength(
      1,
    );
  });
});
