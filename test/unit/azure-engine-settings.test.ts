// Which Pulumi backend and passphrase an account's stack uses: its own spec.stateBackend where it names them,
// else the operator's (--pulumi-backend-url / PULUMI_BACKEND_URL, --pulumi-passphrase-secret).
import { describe, expect, it } from "vitest";
import { AzureOpenAIAccountSpec } from "../../crds/index.ts";
import { engineSettingsOf } from "../../operator/accounts/controller.ts";
import type { AzureOpenAIAccount } from "../../operator/azure/account.ts";

const account = (stateBackend: Record<string, unknown> = {}): AzureOpenAIAccount => ({
  apiVersion: "modelkeys.dev/v1alpha1",
  kind: "AzureOpenAIAccount",
  metadata: { name: "acme", namespace: "ml" },
  spec: AzureOpenAIAccountSpec.parse({
    accountName: "acme-openai",
    resourceGroupName: "rg",
    location: "eastus",
    stateBackend,
  }),
});
const operator = {
  pulumiBackendUrl: "file:///var/lib/modelkeys/pulumi",
  pulumiPassphraseSecret: { namespace: "modelkeys-system", name: "modelkeys-pulumi", key: "passphrase" },
};

describe("engineSettingsOf", () => {
  it("takes the operator's backend and passphrase when the account names none", () => {
    expect(engineSettingsOf(account(), operator)).toEqual(operator);
  });

  it("takes the account's backend URL and its passphrase Secret, in the account's namespace", () => {
    expect(
      engineSettingsOf(
        account({ url: "s3://bucket/prefix", passphraseSecretRef: { name: "pp", key: "phrase" } }),
        operator,
      ),
    ).toEqual({
      pulumiBackendUrl: "s3://bucket/prefix",
      pulumiPassphraseSecret: { namespace: "ml", name: "pp", key: "phrase" },
    });
  });
});
