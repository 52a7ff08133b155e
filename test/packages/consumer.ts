// A TypeScript consumer of the three packages, compiled with `tsc --strict` in a scratch project that has
// only the packed tarballs and their peers installed: the published .d.ts files must carry real types.
import { type ProviderConnection, ProviderConnectionSpec } from "@modelkeys/api";
import { ModelkeysConnection, type ModelkeysConnectionProps, ModelkeysOrganization } from "@modelkeys/cdk8s";
import { APP_ADDRESSES, AzureOpenAIAccount, type AzureOpenAIAccountArgs } from "@modelkeys/pulumi";
import type * as pulumi from "@pulumi/pulumi";
import { App, Chart } from "cdk8s";

const spec = ProviderConnectionSpec.parse({
  organizationRef: { name: "acme" },
  provider: "Gemini",
  gemini: { apiKeySecretRef: { name: "gemini", key: "api-key" } },
});
export const connection: ProviderConnection = {
  apiVersion: "modelkeys.dev/v1alpha1",
  kind: "ProviderConnection",
  metadata: { name: "gemini", namespace: "ml-platform" },
  spec,
};

export function chart(): App {
  const app = new App();
  const chart = new Chart(app, "ml-platform", { namespace: "ml-platform" });
  const acme = new ModelkeysOrganization(chart, "acme", {
    url: "https://label-studio.acme.internal",
    tokenSecretRef: { name: "ls-admin", key: "token" },
  });
  const props: ModelkeysConnectionProps = {
    organization: acme,
    provider: "OpenAI",
    openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
  };
  new ModelkeysConnection(chart, "openai", props);
  // The provider decides which block is allowed: the types say so too.
  // @ts-expect-error an OpenAI connection takes no gemini block
  const wrong: ModelkeysConnectionProps = { organization: acme, provider: "OpenAI", gemini: props.openAI };
  void wrong;
  return app;
}

export function account(): pulumi.Output<string> {
  const args: AzureOpenAIAccountArgs = {
    resourceGroupName: "rg-llm",
    location: "eastus",
    accountName: "acme-openai",
    networkRules: { ipRules: [...APP_ADDRESSES] },
    deployments: [
      { name: "gpt-4o", model: "gpt-4o", version: "2024-11-20", sku: { name: "Standard", capacity: 1 } },
    ],
  };
  return new AzureOpenAIAccount("llm", args).endpoint;
}
