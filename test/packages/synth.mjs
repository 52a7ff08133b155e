// A plain-node consumer (no TypeScript, no tsx): synthesizes a chart with the constructs from the packed
// @modelkeys/cdk8s and writes it to the file named by argv[2] (namespace argv[3]); a spec that breaks the schema
// must fail synth.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { ModelkeysConnection, ModelkeysOrganization } from "@modelkeys/cdk8s";
import { App, Chart } from "cdk8s";

const namespace = process.argv[3] ?? "ml-platform";
const app = new App();
const chart = new Chart(app, "consumer", { namespace, disableResourceNameHashes: true });
const acme = new ModelkeysOrganization(chart, "acme", {
  url: "https://label-studio.acme.internal",
  tokenSecretRef: { name: "ls-admin", key: "token" },
  organizationId: 3,
});
new ModelkeysConnection(chart, "openai", {
  organization: acme,
  provider: "OpenAI",
  openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
  models: ["gpt-4o", "gpt-4.1"],
  deletionPolicy: "Orphan",
});
new ModelkeysConnection(chart, "gpt-4o-azure", {
  organization: acme,
  provider: "AzureOpenAI",
  azure: {
    deployment: "gpt-4o",
    endpoint: "https://acme.openai.azure.com",
    apiKeySecretRef: { name: "azure-openai", key: "api-key" },
  },
});
const yaml = app.synthYaml();
assert.match(yaml, /kind: ProviderConnection/);
writeFileSync(process.argv[2], yaml);

// JavaScript has no types to stop a bad spec: the construct's zod check must, naming the field.
const bad = new App();
new ModelkeysConnection(new Chart(bad, "bad", { namespace }), "custom", {
  organization: "acme",
  provider: "Custom",
  custom: { name: "", endpoint: "https://models.internal/v1" },
});
assert.throws(() => bad.synthYaml(), /spec\.custom\.name/);

// What only the API server checks (a CEL rule: the endpoint's scheme) goes to argv[4], for a dry run to refuse.
const cel = new App();
new ModelkeysConnection(new Chart(cel, "cel", { namespace, disableResourceNameHashes: true }), "ftp", {
  organization: "acme",
  provider: "Custom",
  custom: { name: "local", endpoint: "ftp://models.internal/v1" },
});
writeFileSync(process.argv[4], cel.synthYaml());
console.log(`synthesized ${yaml.match(/^kind: /gm)?.length} objects`);
