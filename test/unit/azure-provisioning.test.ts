// Azure provisioning's orchestration behind the AzureProvisioner interface, with an in-memory provisioner,
// Secrets and clock: Pending while an update runs in the background, then Ready with the owned Secret;
// failures as ProvisionFailed (retried, or not when no engine is configured); the engine's setup errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import type { ProvisioningKube } from "../../operator/azure/context.ts";
import { findPulumiCli, pulumiEngine } from "../../operator/azure/engine.ts";
import type { AzureProvisioner, DeploymentSpec } from "../../operator/azure/provisioner.ts";
import { createAzureProvisioning } from "../../operator/azure/provisioning.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { TerminalError } from "../../operator/error-policy.ts";
import type { ProvisionView } from "../../operator/reconcile/ports.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

const SP = { clientId: "c", clientSecret: "sp-secret-canary", tenantId: "t", subscriptionId: "s" };

function conn(name: string): ProviderConnection {
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "ProviderConnection",
    metadata: {
      name,
      namespace: "ml",
      uid: `uid-${name}`,
      creationTimestamp: "2026-11-01T00:00:00Z",
      finalizers: [FINALIZER],
    },
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      deletionPolicy: "Delete",
      refreshInterval: "1h",
      azure: {
        provision: {
          account: {
            name: "acme-openai",
            resourceGroup: "rg",
            createResourceGroup: false,
            location: "eastus",
            publicNetworkAccess: "Enabled",
            sku: "S0",
            credentialsSecretRef: { name: "azure-sp" },
          },
          deployment: { model: "gpt-4o", version: "2024-11-20", sku: { name: "Standard", capacity: 10 } },
          allowedAddresses: [],
          virtualNetworkSubnetIds: [],
        },
      },
    },
  };
}

/** Secrets in memory, as the API server would hold them. */
function memoryKube() {
  const secrets = new Map<string, Record<string, string>>([["ml/azure-sp", SP]]);
  const kube: ProvisioningKube = {
    async read(namespace, name) {
      return secrets.get(`${namespace}/${name}`);
    },
    async ensure(owner, name, data) {
      secrets.set(`${owner.metadata.namespace}/${name}`, {
        "api-key": data.apiKey,
        endpoint: data.endpoint,
        deployment: data.deployment,
      });
      return true;
    },
    async remove(namespace, name) {
      secrets.delete(`${namespace}/${name}`);
    },
    async event() {},
  };
  return { kube, secrets };
}

/** A provisioner whose updates the test finishes by hand. */
function handProvisioner() {
  const calls: DeploymentSpec[][] = [];
  let finish: (error?: Error) => void = () => {};
  const provisioner: AzureProvisioner = {
    up(_account, deployments) {
      calls.push(deployments);
      return new Promise((resolve, reject) => {
        finish = (error) =>
          error
            ? reject(error)
            : resolve({
                stack: "s",
                endpoint: "https://acme-openai.openai.azure.com/",
                accountName: "acme-openai",
                deploymentNames: deployments.map((d) => d.name),
                allowedAddresses: ["3.219.3.197", "34.237.73.3", "44.216.17.242"],
                primaryKey: "primary-canary-1",
                secondaryKey: "secondary-canary-2",
              });
      });
    },
    async destroy() {},
    async regenerateKey() {
      return { primaryKey: "p", secondaryKey: "s" };
    },
  };
  return { provisioner, calls, finish: (error?: Error) => finish(error) };
}

function setup(provisioner: () => Promise<AzureProvisioner>) {
  const clock = new FakeClock();
  const { kube, secrets } = memoryKube();
  const enqueued: string[] = [];
  const connections = [conn("gpt-4o")];
  const provisioning = createAzureProvisioning({
    kube,
    provisioner,
    clock,
    log: { info() {}, warn() {} },
    env: {},
    backoff: { baseMs: 1000, maxMs: 8000 },
  });
  provisioning.attach({
    enqueue: (ns, name) => enqueued.push(`${ns}/${name}`),
    connections: () => connections,
  });
  return { provisioning, clock, secrets, enqueued, connection: connections[0] as ProviderConnection };
}

const provisionedCondition = (view: ProvisionView) => view.conditions.find((c) => c.type === "Provisioned");

describe("createAzureProvisioning", () => {
  it("answers Pending at once while the update runs, then Ready with the owned Secret", async () => {
    const engine = handProvisioner();
    const { provisioning, secrets, enqueued, connection } = setup(async () => engine.provisioner);
    const first = await provisioning.provision(connection);
    expect(first.kind).toBe("Pending");
    expect(provisionedCondition(first)).toMatchObject({ status: "Unknown", reason: "Provisioning" });
    await settle();
    expect(engine.calls).toHaveLength(1);
    // A second reconcile meanwhile neither waits nor starts another update.
    expect((await provisioning.provision(connection)).kind).toBe("Pending");
    expect(engine.calls).toHaveLength(1);
    engine.finish();
    await settle();
    expect(enqueued).toEqual(["ml/gpt-4o"]);
    const ready = await provisioning.provision(connection);
    expect(ready).toMatchObject({
      kind: "Ready",
      deployment: "gpt-4o",
      endpoint: "https://acme-openai.openai.azure.com/",
      secretName: "gpt-4o-azure-openai",
      azureStatus: {
        accountName: "acme-openai",
        deployment: "gpt-4o",
        model: "gpt-4o",
        lastUpdateResult: "Succeeded",
      },
    });
    expect(provisionedCondition(ready)).toMatchObject({ status: "True", reason: "Provisioned" });
    expect(secrets.get("ml/gpt-4o-azure-openai")).toEqual({
      "api-key": "primary-canary-1",
      endpoint: "https://acme-openai.openai.azure.com/",
      deployment: "gpt-4o",
    });
    expect(engine.calls).toHaveLength(1);
  });

  it("reports a failed update as ProvisionFailed and retries it after the backoff", async () => {
    const engine = handProvisioner();
    const { provisioning, clock, enqueued, connection } = setup(async () => engine.provisioner);
    await provisioning.provision(connection);
    await settle();
    engine.finish(new Error("up of stack s failed: error: quota exceeded"));
    await settle();
    const failed = await provisioning.provision(connection);
    expect(failed.kind).toBe("Pending");
    expect(provisionedCondition(failed)).toEqual({
      type: "Provisioned",
      status: "False",
      reason: "ProvisionFailed",
      message: "up of stack s failed: error: quota exceeded",
    });
    expect(failed.azureStatus).toMatchObject({ lastUpdateResult: "Failed" });
    enqueued.length = 0;
    await clock.advance(1000);
    expect(enqueued).toEqual(["ml/gpt-4o"]);
    expect((await provisioning.provision(connection)).kind).toBe("Pending");
    await settle();
    expect(engine.calls).toHaveLength(2);
  });

  it("says plainly when no Pulumi engine is configured, and does not retry", async () => {
    const { provisioning, clock, enqueued, connection } = setup(
      pulumiEngine({
        config: { pulumiBackendUrl: "file:///nowhere", pulumiPassphraseSecret: undefined },
        readSecret: async () => undefined,
        env: { PATH: "/nonexistent" },
      }),
    );
    await provisioning.provision(connection);
    await settle();
    const view = await provisioning.provision(connection);
    expect(provisionedCondition(view)).toMatchObject({
      status: "False",
      reason: "ProvisionFailed",
      message: expect.stringMatching(/^no Pulumi engine configured: set MODELKEYS_PULUMI_DIR/),
    });
    enqueued.length = 0;
    await clock.advance(60_000);
    expect(enqueued).toEqual([]);
  });
});

describe("pulumiEngine", () => {
  const withCli = { MODELKEYS_PULUMI_DIR: "/definitely/not/here" };

  it("finds no CLI in an empty PATH or a MODELKEYS_PULUMI_DIR without bin/pulumi", () => {
    expect(findPulumiCli({ PATH: "/nonexistent" })).toBeUndefined();
    expect(findPulumiCli(withCli)).toBeUndefined();
  });

  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  const fakeCliEnv = () => {
    // A directory that holds bin/pulumi (never run here: the provisioner is only built).
    const dir = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
    made.push(dir);
    mkdirSync(`${dir}/bin`);
    writeFileSync(`${dir}/bin/pulumi`, "#!/bin/sh\n", { mode: 0o755 });
    return { MODELKEYS_PULUMI_DIR: dir };
  };
  const backendUrl = () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-backend-"));
    made.push(dir);
    return pathToFileURL(dir).href;
  };

  it.each([
    ["no passphrase setting", undefined, undefined, TerminalError, /no Pulumi passphrase configured/],
    [
      "no passphrase Secret",
      { namespace: "ops", name: "pp", key: "passphrase" },
      undefined,
      Error,
      /Secret ops\/pp not found/,
    ],
    [
      "no passphrase key",
      { namespace: "ops", name: "pp", key: "passphrase" },
      {},
      Error,
      /Secret ops\/pp has no key passphrase/,
    ],
  ])("refuses with %s", async (_label, ref, data, type, message) => {
    const get = pulumiEngine({
      config: { pulumiBackendUrl: backendUrl(), pulumiPassphraseSecret: ref },
      readSecret: async () => data,
      env: fakeCliEnv(),
    });
    const attempt = get();
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toThrow(message);
    if (type === Error) await expect(attempt).rejects.not.toBeInstanceOf(TerminalError);
  });

  it("builds one provisioner per passphrase", async () => {
    const get = pulumiEngine({
      config: {
        pulumiBackendUrl: backendUrl(),
        pulumiPassphraseSecret: { namespace: "ops", name: "pp", key: "passphrase" },
      },
      readSecret: async () => ({ passphrase: "pp-canary" }),
      env: fakeCliEnv(),
    });
    expect(await get()).toBe(await get());
  });
});
