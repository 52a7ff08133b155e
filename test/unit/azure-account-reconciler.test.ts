// The account reconciler behind the AzureProvisioner interface, with an in-memory provisioner, API server
// and clock: an update in the background then the key Secret and status; one deployment per referencing
// connection; failures as ProvisionFailed (retried, or not when no engine is configured); both deletion
// policies; and the Pulumi engine's setup errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { AzureOpenAIAccountSpec, type ProviderConnection } from "../../crds/index.ts";
import { findPulumiCli, pulumiEngine } from "../../operator/accounts/engine.ts";
import { ACCOUNT_FINALIZER, type AzureOpenAIAccount } from "../../operator/azure/account.ts";
import { createAccountReconciler } from "../../operator/azure/account-reconciler.ts";
import type { AccountKube } from "../../operator/azure/ports.ts";
import type { AzureProvisioner, DeploymentSpec } from "../../operator/azure/provisioner.ts";
import { FINALIZER } from "../../operator/constants.ts";

type AzureOpenAIAccountSpecInput = import("zod").input<typeof AzureOpenAIAccountSpec>;

import { TerminalError } from "../../operator/error-policy.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

const SP = { clientId: "c", clientSecret: "sp-secret-canary", tenantId: "t", subscriptionId: "s" };

function conn(
  name: string,
  extra: Partial<ProviderConnection["metadata"]> = {},
  deletionPolicy: "Delete" | "Orphan" = "Delete",
): ProviderConnection {
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "ProviderConnection",
    metadata: {
      name,
      namespace: "ml",
      uid: `uid-${name}`,
      creationTimestamp: "2026-11-01T00:00:00Z",
      finalizers: [FINALIZER],
      ...extra,
    },
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      deletionPolicy,
      refreshInterval: "1h",
      azure: {
        provision: {
          accountRef: { name: "acme-openai" },
          deployment: { model: "gpt-4o", version: "2024-11-20", sku: { name: "Standard", capacity: 10 } },
        },
      },
    },
  };
}

function account(extra: Partial<AzureOpenAIAccountSpecInput> = {}): AzureOpenAIAccount {
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "AzureOpenAIAccount",
    metadata: {
      name: "acme-openai",
      namespace: "ml",
      uid: "uid-account",
      generation: 1,
      resourceVersion: "1",
    },
    spec: AzureOpenAIAccountSpec.parse({
      accountName: "acme-openai",
      resourceGroupName: "rg",
      location: "eastus",
      credentials: { servicePrincipal: { secretRef: { name: "azure-sp" } } },
      deletionPolicy: "Delete",
      ...extra,
    }),
  };
}

/** The API server in memory: the account (as stored), Secrets and Events. */
function memoryKube(initial: AzureOpenAIAccount) {
  const secrets = new Map<string, Record<string, string>>([["ml/azure-sp", SP]]);
  const events: string[] = [];
  let stored: AzureOpenAIAccount | undefined = initial;
  let version = 1;
  const store = (next: AzureOpenAIAccount) => {
    version += 1;
    stored = { ...next, metadata: { ...next.metadata, resourceVersion: String(version) } };
    // A deleting object without finalizers is gone.
    if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0)
      stored = undefined;
    return next;
  };
  const kube: AccountKube = {
    async readSecret(namespace, name) {
      return secrets.get(`${namespace}/${name}`);
    },
    async ensureKeySecret(owner, name, data) {
      secrets.set(`${owner.metadata.namespace}/${name}`, { "api-key": data.apiKey, endpoint: data.endpoint });
      return true;
    },
    async removeSecret(namespace, name) {
      secrets.delete(`${namespace}/${name}`);
    },
    async patchMetadata(a, metadata) {
      return store({ ...a, metadata: { ...a.metadata, ...(metadata as object) } });
    },
    async patchStatus(a, status) {
      return store({ ...a, status: status as AzureOpenAIAccount["status"] });
    },
    async event(_object, event) {
      events.push(`${event.type} ${event.reason}: ${event.message}`);
    },
  };
  return {
    kube,
    secrets,
    events,
    get: () => stored,
    set: (a: AzureOpenAIAccount | undefined) => {
      stored = a;
    },
  };
}

/** A provisioner whose updates the test finishes by hand. */
function handProvisioner() {
  const calls: DeploymentSpec[][] = [];
  const destroyed: string[] = [];
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
    async destroy(ref) {
      destroyed.push(ref.accountName);
    },
    async regenerateKey() {
      return { primaryKey: "p", secondaryKey: "s" };
    },
  };
  return { provisioner, calls, destroyed, finish: (error?: Error) => finish(error) };
}

function setup(
  provisioner: () => Promise<AzureProvisioner>,
  connections: ProviderConnection[] = [conn("gpt-4o")],
  spec = account(),
) {
  const clock = new FakeClock();
  const world = memoryKube(spec);
  const enqueued: string[] = [];
  const reconciler = createAccountReconciler({
    kube: world.kube,
    getAccount: () => world.get(),
    connectionsOf: () => connections,
    connectionsSynced: () => true,
    enqueue: (ns, name) => enqueued.push(`${ns}/${name}`),
    provisioner,
    clock,
    log: { info() {}, warn() {} },
    env: {},
    backoff: { baseMs: 1000, maxMs: 8000 },
  });
  const reconcile = () => reconciler.reconcile("ml", "acme-openai");
  return { reconcile, clock, world, enqueued, connections };
}

/** An account (one connection) whose first update has finished and whose reconcile has recorded it. */
async function provisioned(spec = account()) {
  const engine = handProvisioner();
  const set = setup(async () => engine.provisioner, [conn("gpt-4o")], spec);
  await set.reconcile();
  await settle();
  engine.finish();
  await settle();
  await set.reconcile();
  return { engine, ...set };
}

const conditionOf = (a: AzureOpenAIAccount | undefined, type: string) =>
  a?.status?.conditions?.find((c) => c.type === type);

describe("the account reconciler", () => {
  it("adds its finalizer, updates the stack in the background, then writes the key Secret and status", async () => {
    const engine = handProvisioner();
    const { reconcile, world, enqueued } = setup(async () => engine.provisioner);
    await reconcile();
    expect(world.get()?.metadata.finalizers).toEqual([ACCOUNT_FINALIZER]);
    expect(conditionOf(world.get(), "Reconciling")).toMatchObject({ status: "True", reason: "Provisioning" });
    expect(world.get()?.status?.deployments).toEqual([
      expect.objectContaining({ name: "gpt-4o", state: "Pending", connection: "gpt-4o" }),
    ]);
    await settle();
    // A second reconcile meanwhile neither waits nor starts another update.
    await reconcile();
    expect(engine.calls).toHaveLength(1);
    engine.finish();
    await settle();
    expect(enqueued).toEqual(["ml/acme-openai"]);
    await reconcile();
    expect(world.secrets.get("ml/acme-openai-azure-openai-key")).toEqual({
      "api-key": "primary-canary-1",
      endpoint: "https://acme-openai.openai.azure.com/",
    });
    expect(world.get()?.status).toMatchObject({
      observedGeneration: 1,
      endpoint: "https://acme-openai.openai.azure.com/",
      ipRules: ["3.219.3.197", "34.237.73.3", "44.216.17.242"],
      keySecretName: "acme-openai-azure-openai-key",
      activeKey: "key1",
      networkSummary: "Deny+3",
      deploymentCount: 1,
      stack: {
        name: expect.stringMatching(/^rg\.acme-openai-[0-9a-f]{8}$/),
        lastUpdate: { result: "succeeded" },
      },
      deployments: [expect.objectContaining({ name: "gpt-4o", model: "gpt-4o", state: "Succeeded" })],
    });
    expect(conditionOf(world.get(), "Ready")).toMatchObject({ status: "True", reason: "Provisioned" });
    expect(conditionOf(world.get(), "Reconciling")).toMatchObject({ status: "False" });
    expect(world.events).toEqual([
      expect.stringMatching(/^Normal Provisioned: Azure account rg\/acme-openai/),
    ]);
    expect(JSON.stringify(world.get()?.status)).not.toContain("canary");
    expect(engine.calls).toHaveLength(1);
  });

  it("holds one deployment per referencing connection, and drops a deleting Delete connection's", async () => {
    const engine = handProvisioner();
    const connections = [conn("gpt-4o"), conn("mini", { creationTimestamp: "2026-11-02T00:00:00Z" })];
    const { reconcile } = setup(async () => engine.provisioner, connections);
    await reconcile();
    await settle();
    expect(engine.calls.at(-1)?.map((d) => d.name)).toEqual(["gpt-4o", "mini"]);
    engine.finish();
    await settle();
    connections[1] = conn("mini", { deletionTimestamp: "2026-11-03T00:00:00Z" });
    await reconcile();
    await settle();
    expect(engine.calls.at(-1)?.map((d) => d.name)).toEqual(["gpt-4o"]);
  });

  it("keeps a deleting Orphan connection's deployment until the stack records it as retained", async () => {
    const engine = handProvisioner();
    const connections = [conn("kept", { deletionTimestamp: "2026-11-03T00:00:00Z" }, "Orphan")];
    const { reconcile } = setup(async () => engine.provisioner, connections);
    await reconcile();
    await settle();
    expect(engine.calls.at(-1)).toEqual([expect.objectContaining({ name: "kept", retainOnDelete: true })]);
    engine.finish();
    await settle();
    await reconcile();
    await settle();
    expect(engine.calls.at(-1)).toEqual([]);
  });

  it("reports a failed update as ProvisionFailed and retries it after the backoff", async () => {
    const engine = handProvisioner();
    const { reconcile, clock, enqueued, world } = setup(async () => engine.provisioner);
    await reconcile();
    await settle();
    engine.finish(new Error("up of stack s failed: error: quota exceeded"));
    await settle();
    await reconcile();
    expect(conditionOf(world.get(), "Ready")).toMatchObject({
      status: "False",
      reason: "ProvisionFailed",
      message: expect.stringMatching(/failed: up of stack s failed: error: quota exceeded$/),
    });
    expect(conditionOf(world.get(), "Reconciling")).toMatchObject({ status: "True" });
    expect(world.get()?.status?.deployments).toEqual([expect.objectContaining({ state: "Failed" })]);
    expect(world.events).toEqual([
      expect.stringMatching(/^Warning ProvisionFailed: updating .*quota exceeded$/),
    ]);
    enqueued.length = 0;
    await clock.advance(1000);
    expect(enqueued).toEqual(["ml/acme-openai"]);
    await reconcile();
    await settle();
    expect(engine.calls).toHaveLength(2);
  });

  it("says plainly when no Pulumi engine is configured (Stalled), and does not retry", async () => {
    const { reconcile, clock, enqueued, world } = setup(
      pulumiEngine({
        config: { pulumiBackendUrl: "file:///nowhere", pulumiPassphraseSecret: undefined },
        readSecret: async () => undefined,
        env: { PATH: "/nonexistent" },
      }),
    );
    await reconcile();
    await settle();
    await reconcile();
    expect(conditionOf(world.get(), "Stalled")).toMatchObject({
      status: "True",
      reason: "ProvisionFailed",
      message: expect.stringMatching(/no Pulumi engine configured: set MODELKEYS_PULUMI_DIR/),
    });
    enqueued.length = 0;
    await clock.advance(60_000);
    expect(enqueued).toEqual([]);
  });

  it("destroys the stack before it lets a Delete account go, and removes its key Secret", async () => {
    const { engine, reconcile, world } = await provisioned();
    const live = world.get() as AzureOpenAIAccount;
    world.set({ ...live, metadata: { ...live.metadata, deletionTimestamp: "2026-11-05T00:00:00Z" } });
    await reconcile();
    await settle();
    expect(engine.destroyed).toEqual(["acme-openai"]);
    await reconcile();
    expect(world.get()).toBeUndefined();
    expect(world.secrets.has("ml/acme-openai-azure-openai-key")).toBe(false);
  });

  it("lets a Delete account go without destroying its stack when it is released", async () => {
    const { engine, reconcile, world } = await provisioned();
    const live = world.get() as AzureOpenAIAccount;
    world.set({
      ...live,
      metadata: {
        ...live.metadata,
        deletionTimestamp: "2026-11-05T00:00:00Z",
        annotations: { "modelkeys.dev/release": "true" },
      },
    });
    await reconcile();
    expect(world.get()).toBeUndefined();
    expect(engine.destroyed).toEqual([]);
  });

  it("leaves Azure alone when an Orphan account goes", async () => {
    const { engine, reconcile, world } = await provisioned(account({ deletionPolicy: "Orphan" }));
    const live = world.get() as AzureOpenAIAccount;
    world.set({ ...live, metadata: { ...live.metadata, deletionTimestamp: "2026-11-05T00:00:00Z" } });
    await reconcile();
    expect(world.get()).toBeUndefined();
    expect(engine.destroyed).toEqual([]);
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
