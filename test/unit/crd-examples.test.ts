// The example manifests: one per provider, all in modelkeys-examples, and valid for the zod schemas too.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { AzureOpenAIAccountSpec } from "../../crds/azureopenaiaccount.ts";
import { OrganizationSpec } from "../../crds/organization.ts";
import { PROVIDERS, ProviderConnectionSpec } from "../../crds/providerconnection.ts";

const dir = fileURLToPath(new URL("../../examples/", import.meta.url));
type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
};
const manifests = readdirSync(dir)
  .filter((file) => file.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(`${dir}${file}`, "utf8")).map((doc) => ({
      file,
      object: doc.toJS() as Manifest,
    })),
  );
const connections = manifests.filter((m) => m.object.kind === "ProviderConnection");

describe("examples/", () => {
  it("covers each of the seven providers", () => {
    const providers = new Set(connections.map((m) => (m.object.spec as { provider: string }).provider));
    expect([...providers].sort()).toEqual([...PROVIDERS].sort());
  });

  it("puts every namespaced object in modelkeys-examples", () => {
    for (const { file, object } of manifests.filter((m) => m.object.kind !== "Namespace")) {
      expect(object.metadata.namespace, `${file} ${object.kind}/${object.metadata.name}`).toBe(
        "modelkeys-examples",
      );
    }
  });

  it.each(connections.map((m) => [m.file, m.object] as const))(
    "%s parses with the zod schema",
    (_file, object) => {
      expect(() => ProviderConnectionSpec.parse(object.spec)).not.toThrow();
    },
  );

  it("has an AzureOpenAIAccount that parses with the zod schema and names its credentials Secret", () => {
    const accounts = manifests.filter((m) => m.object.kind === "AzureOpenAIAccount");
    expect(accounts.map((m) => m.file)).toEqual(["azure-openai-account.yaml"]);
    const spec = AzureOpenAIAccountSpec.parse(accounts[0]?.object.spec);
    const secret = spec.credentials.servicePrincipal?.secretRef.name;
    const secrets = manifests.filter((m) => m.object.kind === "Secret" && m.object.metadata.name === secret);
    expect(secrets.map((m) => m.file)).toContain("azure-openai-account.yaml");
  });

  it("has an Organization at the local app sandbox, and every connection names it", () => {
    const organizations = manifests.filter((m) => m.object.kind === "Organization");
    expect(organizations.map((m) => m.file)).toEqual(["organization.yaml"]);
    const spec = OrganizationSpec.parse(organizations[0]?.object.spec);
    expect(spec.url).toBe("http://127.0.0.1:8765");
    for (const { object } of connections) {
      expect((object.spec as { organizationRef: { name: string } }).organizationRef.name).toBe(
        organizations[0]?.object.metadata.name,
      );
    }
  });

  it("has each referenced Secret, with placeholder values only", () => {
    const secrets = new Map(
      manifests
        .filter((m) => m.object.kind === "Secret")
        .map((m) => [
          m.object.metadata.name,
          (m.object as unknown as { stringData: Record<string, string> }).stringData,
        ]),
    );
    const refs = JSON.stringify(manifests.map((m) => m.object.spec ?? {})).matchAll(
      /"(?:apiKey|authToken|credentials|token)SecretRef":\{"name":"([^"]+)","key":"([^"]+)"\}/g,
    );
    for (const [, name, key] of refs)
      expect(secrets.get(name as string), `${name}/${key}`).toHaveProperty(key as string);
    for (const data of secrets.values()) {
      expect(Object.values(data).some((value) => /REPLACE|0000/.test(value))).toBe(true);
    }
  });
});
