// An example of authoring modelkeys objects in TypeScript: an Organization and its OpenAI connection.
// `npx tsx cdk8s/example.ts` prints the YAML; `kubectl apply -f -` takes it from there.
import { pathToFileURL } from "node:url";
import { App, Chart } from "cdk8s";
import { ModelkeysConnection, ModelkeysOrganization } from "./constructs.ts";

/** The example as an App: one chart in the ml-platform namespace. */
export function exampleApp(): App {
  const app = new App();
  const chart = new Chart(app, "ml-platform", { namespace: "ml-platform", disableResourceNameHashes: true });

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
    deletionPolicy: "Delete",
  });

  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${exampleApp().synthYaml().trimEnd()}\n`);
}
