// An install without Azure provisioning: the operator, as a ServiceAccount with only that mode's RBAC (no Secret
// create, update or delete), serves ordinary connections (the Organization token's finalizer needs only patch) and
// answers a connection that asks for provisioning with a terminal ProvisionFailed saying why, writing no Secret.
import { afterAll, beforeAll, expect, it } from "vitest";
import { disabledProvisioning } from "../../operator/accounts/disabled.ts";
import { TOKEN_FINALIZER } from "../../operator/constants.ts";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { startInProcessOperator } from "../support/in-process-operator.ts";
import { installMode, removeInstalledModes } from "../support/install-modes.ts";
import { answersValid, type TestOperator } from "../support/operator.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = `canary-noprov-key-${Math.random().toString(36).slice(2)}`;
let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  namespace = await cluster.createTestNamespace("noprov");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "openai", { "api-key": KEY });
  const { kc } = await installMode({ azureProvisioning: false }, "noprov-op", namespace);
  operator = await startInProcessOperator({
    kc,
    namespace,
    flags: ["--azure-provisioning=false"],
    provisioning: disabledProvisioning(),
    checkModels: answersValid("gpt-4o"),
  });
});

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
    await removeInstalledModes();
  }
});

it("serves an ordinary connection, and puts the token finalizer on the Organization's Secret (patch only)", async () => {
  await createConnection(namespace, "openai", {
    organizationRef: { name: "acme" },
    provider: "OpenAI",
    openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
  });
  await waitForCondition(namespace, "openai", "Ready", "True");
  const token = await testCluster().core.readNamespacedSecret({ namespace, name: "acme-token" });
  expect(token.metadata?.finalizers).toContain(TOKEN_FINALIZER);
});

it("answers azure.provision with a terminal ProvisionFailed saying provisioning is off, and writes no Secret", async () => {
  await createConnection(namespace, "azure", {
    organizationRef: { name: "acme" },
    provider: "AzureOpenAI",
    azure: {
      provision: {
        accountRef: { name: "acme-openai" },
        deployment: { model: "gpt-4o", version: "2024-11-20", sku: { name: "GlobalStandard", capacity: 20 } },
      },
    },
  });
  const failed = await waitForCondition(namespace, "azure", "Ready", "False", "ProvisionFailed");
  expect(failed.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain(
    "Azure provisioning is off in this install",
  );
  const secrets = await testCluster().core.listNamespacedSecret({ namespace });
  expect(secrets.items.map((s) => s.metadata?.name).sort()).toEqual(["acme-token", "openai"]);
});
