// Azure OpenAI accounts end to end: the real API server, the app stand-in, the in-process operator with its
// account controller, and the real Pulumi engine running a cloud-free program (a component and dynamic resources
// standing in for the account and its deployments). One stack per account with one deployment per connection,
// a connection's deletion with both policies, key rotation in the right order, the account's own deletion with
// both policies, clear conditions while an account is missing or not ready, and no secret anywhere we write.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { setHeaderOptions } from "@kubernetes/client-node";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import { createAccountController } from "../../operator/accounts/controller.ts";
import type { AzureOpenAIAccount } from "../../operator/azure/account.ts";
import type { AccountKeyService } from "../../operator/azure/account-keys.ts";
import type { ProgramFactory } from "../../operator/azure/inline-program.ts";
import { stackNameFor } from "../../operator/azure/stack-name.ts";
import { systemClock } from "../../operator/clock.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { createLogger } from "../../operator/log.ts";
import { allowedIpRules } from "../../pulumi/network-rules.ts";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  azureAccountManifest,
  createAzureAccount,
  createConnection,
  createOrganization,
  deleteConnection,
  eventsFor,
  getConnection,
  putSecret,
  startAppWithOwner,
  TEST_SUBSCRIPTION,
  waitForCondition,
} from "../support/world.ts";

const pulumiDir = process.env.MODELKEYS_PULUMI_DIR;
const cliFound = pulumiDir
  ? existsSync(join(pulumiDir, "bin", "pulumi"))
  : (process.env.PATH ?? "").split(delimiter).some((p) => p && existsSync(join(p, "pulumi")));
if (!cliFound && process.env.CI === "true") {
  throw new Error("the Pulumi CLI is required in CI: set MODELKEYS_PULUMI_DIR=$(bash local/pulumi/build.sh)");
}
const engine = cliFound ? describe : describe.skip;
if (!cliFound) console.warn("azure-provisioning: skipped, no Pulumi CLI (set MODELKEYS_PULUMI_DIR)");

const SP_SECRET = "canary-sp-secret-Qm4x9Lw2";
const PASSPHRASE = "canary-pulumi-passphrase-7Zt1";
const SUBSCRIPTION = TEST_SUBSCRIPTION;
const STEP_MS = 120_000;

// --- The cloud-free stand-in of Azure -------------------------------------------------------------------

/** Each account's keys as "Azure" holds them: the program reads them, the key service regenerates them. */
const accountKeys = new Map<string, { key1: string; key2: string }>();
/** Every key ever handed out: canaries for the leak scan. */
const issuedKeys: string[] = [];
const newKey = (account: string, name: string) => {
  const key = `canary-${account}-${name}-${issuedKeys.length + 1}-x7Pq`;
  issuedKeys.push(key);
  return key;
};
function keysOf(account: string) {
  let keys = accountKeys.get(account);
  if (!keys) {
    keys = { key1: newKey(account, "key1"), key2: newKey(account, "key2") };
    accountKeys.set(account, keys);
  }
  return keys;
}

/** Every program run: its stack and the deployments it declared. */
const programRuns: { stack: string; deployments: string[] }[] = [];
/** Every key regeneration, with how many app requests had arrived by then (orders it against the app's). */
const regenerations: { account: string; key: string; appRequestsBefore: number }[] = [];

// Dynamic providers run in the plugin the CLI starts (through the SDK's shim on PATH); their deletes are
// appended to a file named by an environment variable of that plugin.
const sdkDir = dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
const deploymentProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `deployment-${inputs.name}`, outs: inputs };
  },
  async diff(_id, olds, news) {
    const changed = ["model", "version", "capacity"].filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0 };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete(id) {
    const fs = require("node:fs");
    fs.appendFileSync(process.env.MODELKEYS_TEST_DELETE_LOG as string, `${id}\n`);
  },
};
class FakeDeployment extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(deploymentProvider, name, props, opts);
  }
}

const cloudFreeProgram: ProgramFactory =
  ({ account, stack }) =>
  async () => {
    programRuns.push({ stack, deployments: account.deployments.map((d) => d.name) });
    const component = new pulumi.ComponentResource("modelkeys:test:OpenAIAccount", account.accountName);
    for (const d of account.deployments) {
      new FakeDeployment(
        `${account.accountName}-${d.name}`,
        { name: d.name, model: d.model, version: d.version, capacity: d.sku.capacity },
        { parent: component, ...(d.retainOnDelete ? { retainOnDelete: true } : {}) },
      );
    }
    const keys = keysOf(account.accountName);
    return {
      endpoint: `https://${account.customSubDomainName ?? account.accountName.toLowerCase()}.openai.azure.com/`,
      accountName: account.accountName,
      deploymentNames: account.deployments.map((d) => d.name),
      allowedAddresses: allowedIpRules(account.networkRules.ipRules),
      primaryKey: pulumi.secret(keys.key1),
      secondaryKey: pulumi.secret(keys.key2),
    };
  };

// --- The world ------------------------------------------------------------------------------------------

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;
let base: string;
let deleteLog: string;

const keyService: AccountKeyService = {
  async regenerate(account, key) {
    const keys = keysOf(account.accountName);
    keys[key] = newKey(account.accountName, key);
    regenerations.push({
      account: account.accountName,
      key,
      appRequestsBefore: world.app.state.requests.length,
    });
    return { primaryKey: keys.key1, secondaryKey: keys.key2 };
  },
};

/** The stacks whose state the operator keeps (the default: a Secret per stack in the account's namespace). */
async function stacksInBackend(): Promise<string[]> {
  const secrets = await testCluster().core.listNamespacedSecret({
    namespace,
    labelSelector: "modelkeys.dev/pulumi-state=true",
  });
  return secrets.items.map((s) => s.metadata?.annotations?.["modelkeys.dev/pulumi-stack"] ?? "").sort();
}

const deletedIds = () =>
  existsSync(deleteLog) ? readFileSync(deleteLog, "utf8").split("\n").filter(Boolean) : [];
const runsOf = (account: string) => programRuns.filter((r) => r.stack === stackOf(account));
const stackOf = (account: string) =>
  stackNameFor({ accountName: account, resourceGroupName: "rg-llm", subscriptionId: SUBSCRIPTION });

// --- AzureOpenAIAccount objects, as a user writes them ---------------------------------------------------

const accounts = () => ({
  group: "modelkeys.dev",
  version: "v1alpha1",
  namespace,
  plural: "azureopenaiaccounts",
});

function accountManifest(
  name: string,
  extra: { deletionPolicy?: "Delete" | "Orphan"; spec?: Record<string, unknown> } = {},
) {
  return azureAccountManifest(namespace, name, {
    networkRules: { ipRules: ["203.0.113.10"] },
    deletionPolicy: extra.deletionPolicy ?? "Delete",
    ...extra.spec,
  });
}

async function createAccount(name: string, extra: Parameters<typeof accountManifest>[1] = {}): Promise<void> {
  const { spec } = accountManifest(name, extra);
  await createAzureAccount(namespace, name, spec);
}

async function getAccount(name: string): Promise<AzureOpenAIAccount | undefined> {
  try {
    return (await testCluster().custom.getNamespacedCustomObject({
      ...accounts(),
      name,
    })) as AzureOpenAIAccount;
  } catch {
    return undefined;
  }
}

async function patchAccount(name: string, body: Record<string, unknown>): Promise<void> {
  await testCluster().custom.patchNamespacedCustomObject(
    { ...accounts(), name, body },
    setHeaderOptions("Content-Type", "application/merge-patch+json"),
  );
}

const deleteAccount = (name: string) =>
  testCluster().custom.deleteNamespacedCustomObject({ ...accounts(), name });

const accountCondition = (a: AzureOpenAIAccount | undefined, type: string) =>
  a?.status?.conditions?.find((c) => c.type === type);

/** Waits until the account is Ready for its generation with `deployments` Succeeded. */
function accountReady(name: string, deployments: string[]): Promise<AzureOpenAIAccount> {
  return waitFor(
    async () => {
      const a = await getAccount(name);
      const ready = accountCondition(a, "Ready")?.status === "True";
      const made = (a?.status?.deployments ?? [])
        .filter((d) => d.state === "Succeeded")
        .map((d) => d.name)
        .sort();
      return ready &&
        a?.status?.observedGeneration === a?.metadata.generation &&
        JSON.stringify(made) === JSON.stringify(deployments)
        ? a
        : undefined;
    },
    {
      timeoutMs: STEP_MS,
      description: `AzureOpenAIAccount ${name} Ready with ${deployments.join(", ") || "no deployment"}`,
    },
  );
}

async function createProvisioned(
  name: string,
  account: string,
  extra: { deployment?: Record<string, unknown>; deletionPolicy?: "Delete" | "Orphan" } = {},
): Promise<void> {
  await createConnection(namespace, name, {
    organizationRef: { name: "acme" },
    provider: "AzureOpenAI",
    azure: {
      provision: {
        accountRef: { name: account },
        deployment: {
          model: "gpt-4o",
          version: "2024-11-20",
          sku: { name: "GlobalStandard", capacity: 20 },
          ...extra.deployment,
        },
      },
    },
    deletionPolicy: extra.deletionPolicy ?? "Delete",
  });
}

const keySecret = async (account: string) => {
  try {
    return await testCluster().core.readNamespacedSecret({ namespace, name: `${account}-azure-openai-key` });
  } catch {
    return undefined;
  }
};
const decoded = (data: Record<string, string> | undefined) =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
const appRecordOf = (c: ProviderConnection) => world.app.state.getConnection(c.status?.appConnectionId ?? -1);
const gone = (what: string, read: () => Promise<unknown>) =>
  waitFor(async () => ((await read()) ? undefined : true), {
    timeoutMs: STEP_MS,
    description: `${what} deleted`,
  });
const connectionGone = (name: string) => gone(name, () => getConnection(namespace, name));

/** Logs of every operator this file started (the canary scan reads them all). */
const logSources: (() => string)[] = [];

/** The in-process operator with the account controller wired as main.ts wires it, on the cloud-free engine. */
async function startOperator(): Promise<TestOperator> {
  const lines: string[] = [];
  const accountLog = createLogger({
    level: "debug",
    destination: { write: (l: string) => void lines.push(l) },
  });
  const provisioning = createAccountController({
    kc: testCluster().operator.kube,
    config: {
      identity: "azure-provisioning-test",
      namespaces: [namespace],
      concurrency: 4,
      // No backend URL: each stack's state in a Secret of the account's namespace, locked by a Lease.
      pulumiBackendUrl: undefined,
      pulumiPassphraseSecret: { namespace, name: "modelkeys-pulumi", key: "passphrase" },
    },
    log: accountLog,
    clock: systemClock,
    env: { ...process.env, AZURE_CLIENT_ID: undefined },
    automation: {
      pulumiHome: join(base, "home"),
      workRoot: join(base, "work"),
      program: cloudFreeProgram,
      keys: keyService,
      env: {
        PATH: `${sdkDir}${delimiter}${process.env.PATH ?? ""}`,
        NODE_PATH: dirname(dirname(sdkDir)),
        MODELKEYS_TEST_DELETE_LOG: deleteLog,
      },
    },
    backoff: { baseMs: 1000, maxMs: 5000 },
  });
  const started = await startTestOperator({ namespace, provisioning, checkModels: answersValid("gpt-4o") });
  logSources.push(started.logs, () => lines.join(""));
  return { ...started, logs: () => logSources.map((source) => source()).join("") };
}

const SP_DATA = {
  clientId: "00000000-0000-0000-0000-0000000000c1",
  clientSecret: SP_SECRET,
  tenantId: "00000000-0000-0000-0000-0000000000t1",
  subscriptionId: SUBSCRIPTION,
};

engine("Azure OpenAI accounts through the operator", () => {
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "modelkeys-provisioning-"));
    deleteLog = join(base, "deleted.log");
    mkdirSync(join(base, "home"));
    mkdirSync(join(base, "work"));
    namespace = await testCluster().createTestNamespace("azure-provisioning");
    world = await startAppWithOwner();
    await createOrganization(namespace, "acme", world.app.url, world.token);
    await putSecret(namespace, "azure-sp", SP_DATA);
    // The passphrase Secret, as the install manifest names it (here in the test's namespace).
    await putSecret(namespace, "modelkeys-pulumi", { passphrase: PASSPHRASE });
    operator = await startOperator();
  });

  afterAll(async () => {
    if (process.env.DEBUG_AOAI)
      require("node:fs").writeFileSync(process.env.DEBUG_AOAI, operator?.logs() ?? "");
    try {
      if (operator) {
        await expectNoLeaks({
          namespace,
          operator,
          secrets: [SP_SECRET, PASSPHRASE, world.token, ...issuedKeys],
        });
      }
    } finally {
      await operator?.stop();
      await world?.app.stop();
      if (base) rmSync(base, { recursive: true, force: true });
    }
  });

  it("says AccountNotFound, naming the account, while a connection's account does not exist", async () => {
    await createProvisioned("gpt-4o", "acme-openai");
    const c = await waitForCondition(namespace, "gpt-4o", "Ready", "False", "AccountNotFound", STEP_MS);
    expect(c.status?.conditions?.find((x) => x.type === "Provisioned")).toMatchObject({
      status: "False",
      reason: "AccountNotFound",
      message: `AzureOpenAIAccount acme-openai not found in namespace ${namespace}`,
    });
    expect(programRuns).toHaveLength(0);
  });

  it("provisions the account once it exists: its stack, key Secret and status; the connection syncs the app", async () => {
    await createAccount("acme-openai");
    const c = await waitForCondition(namespace, "gpt-4o", "Ready", "True", undefined, STEP_MS);
    const account = await accountReady("acme-openai", ["gpt-4o"]);
    const keys = keysOf("acme-openai");
    const secret = await keySecret("acme-openai");
    expect(decoded(secret?.data)).toEqual({
      "api-key": keys.key1,
      endpoint: "https://acme-openai.openai.azure.com/",
    });
    expect(secret?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: "AzureOpenAIAccount",
        name: "acme-openai",
        uid: account.metadata.uid,
        controller: true,
      }),
    ]);
    expect(account.metadata.finalizers).toContain("modelkeys.dev/azure-account");
    expect(account.status).toMatchObject({
      endpoint: "https://acme-openai.openai.azure.com/",
      ipRules: ["3.219.3.197", "34.237.73.3", "44.216.17.242", "203.0.113.10"],
      networkSummary: "Deny+4",
      deploymentCount: 1,
      keySecretName: "acme-openai-azure-openai-key",
      activeKey: "key1",
      stack: { name: stackOf("acme-openai"), lastUpdate: { result: "succeeded" } },
      deployments: [
        expect.objectContaining({
          name: "gpt-4o",
          model: "gpt-4o",
          version: "2024-11-20",
          state: "Succeeded",
          connection: "gpt-4o",
        }),
      ],
    });
    expect(accountCondition(account, "Reconciling")).toMatchObject({ status: "False" });
    expect(accountCondition(account, "Stalled")).toMatchObject({ status: "False" });
    const record = appRecordOf(c);
    expect(record).toMatchObject({
      provider: "AzureOpenAI",
      deployment_name: "gpt-4o",
      endpoint: "https://acme-openai.openai.azure.com/",
    });
    expect(record?.secrets.api_key).toBe(keys.key1);
    expect(c.status?.conditions?.find((x) => x.type === "Provisioned")).toMatchObject({
      status: "True",
      reason: "Provisioned",
    });
    expect(c.status?.azure).toMatchObject({
      accountName: "acme-openai",
      endpoint: "https://acme-openai.openai.azure.com/",
      deployment: "gpt-4o",
      model: "gpt-4o",
    });
  });

  it("holds one deployment per connection in one stack: two connections share the account and its key", async () => {
    await createProvisioned("mini", "acme-openai", {
      deployment: { name: "mini", model: "gpt-4o-mini", version: "2024-07-18" },
    });
    const mini = await waitForCondition(namespace, "mini", "Ready", "True", undefined, STEP_MS);
    await accountReady("acme-openai", ["gpt-4o", "mini"]);
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o", "mini"]);
    expect(await stacksInBackend()).toEqual([stackOf("acme-openai")]);
    const first = (await getConnection(namespace, "gpt-4o")) as ProviderConnection;
    const keys = keysOf("acme-openai");
    expect(appRecordOf(first)?.secrets.api_key).toBe(keys.key1);
    expect(appRecordOf(mini)?.secrets.api_key).toBe(keys.key1);
    expect(appRecordOf(mini)).toMatchObject({
      deployment_name: "mini",
      endpoint: "https://acme-openai.openai.azure.com/",
    });
  });

  it("rotates the keys on request: key2 regenerated, every app PATCHed with it, only then key1 regenerated", async () => {
    const requested = "2026-11-27T10:00:00Z";
    const oldKey1 = keysOf("acme-openai").key1;
    await patchAccount("acme-openai", {
      metadata: { annotations: { "modelkeys.dev/rotate-key-requested-at": requested } },
    });
    const account = await waitFor(
      async () => {
        const a = await getAccount("acme-openai");
        return a?.status?.rotateKeyRequestedAt === requested ? a : undefined;
      },
      { timeoutMs: STEP_MS, description: "the rotation request handled in the account's status" },
    );
    const after = keysOf("acme-openai");
    const rotations = regenerations.filter((r) => r.account === "acme-openai");
    expect(rotations.map((r) => r.key)).toEqual(["key2", "key1"]);
    const [key2Regenerated, key1Regenerated] = rotations as [(typeof rotations)[0], (typeof rotations)[0]];
    for (const name of ["gpt-4o", "mini"]) {
      const conn = (await getConnection(namespace, name)) as ProviderConnection;
      const id = conn.status?.appConnectionId;
      // The app got the new key2 after it existed and before key1 (which it held until then) was regenerated.
      const patched = world.app.state.requests.findIndex(
        (r) =>
          r.method === "PATCH" &&
          r.path.includes(`/${id}`) &&
          (r.body as { api_key?: string } | undefined)?.api_key === after.key2,
      );
      expect(patched, `app record ${id} PATCHed with the new key2`).toBeGreaterThanOrEqual(
        key2Regenerated.appRequestsBefore,
      );
      expect(patched).toBeLessThan(key1Regenerated.appRequestsBefore);
      // Nothing after key1's regeneration gave the app the old key1: the app never held a dead key.
      const stale = world.app.state.requests
        .slice(key1Regenerated.appRequestsBefore)
        .some((r) => (r.body as { api_key?: string } | undefined)?.api_key === oldKey1);
      expect(stale).toBe(false);
      expect(appRecordOf(conn)?.secrets.api_key).toBe(after.key2);
    }
    expect(decoded((await keySecret("acme-openai"))?.data)["api-key"]).toBe(after.key2);
    expect(after.key1).not.toBe(oldKey1);
    expect(account.status).toMatchObject({ activeKey: "key2" });
    expect(Date.parse(account.status?.lastRotated ?? "")).toBeGreaterThan(0);
    expect(await eventsFor(namespace, "acme-openai")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Normal KeyRotated: /)]),
    );
  });

  it("keeps serving across an operator restart: the apps stay Ready and on their key while the stack is updated again", async () => {
    const key = keysOf("acme-openai").key2;
    const before = await Promise.all(["gpt-4o", "mini"].map((n) => getConnection(namespace, n)));
    const readySince = before.map(
      (c) => c?.status?.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime,
    );
    const lastUpdate = (await getAccount("acme-openai"))?.status?.stack?.lastUpdate?.time ?? "";
    const requests = world.app.state.requests.length;
    const runs = runsOf("acme-openai").length;
    await operator.stop();
    operator = await startOperator();
    await waitFor(
      async () => {
        const a = await getAccount("acme-openai");
        return (a?.status?.stack?.lastUpdate?.time ?? "") > lastUpdate &&
          accountCondition(a, "Ready")?.status === "True"
          ? a
          : undefined;
      },
      { timeoutMs: STEP_MS, description: "the account updated by the new process" },
    );
    // The new process updated the stack once and carried on with the key the key Secret holds.
    expect(runsOf("acme-openai")).toHaveLength(runs + 1);
    expect((await getAccount("acme-openai"))?.status?.activeKey).toBe("key2");
    const pushed = world.app.state.requests
      .slice(requests)
      .map((r) => (r.body as { api_key?: string } | undefined)?.api_key)
      .filter((k) => k !== undefined);
    expect(pushed.every((k) => k === key)).toBe(true);
    for (const [i, name] of ["gpt-4o", "mini"].entries()) {
      const c = (await getConnection(namespace, name)) as ProviderConnection;
      expect(appRecordOf(c)?.secrets.api_key).toBe(key);
      // Ready never flipped: its transition time is the one from before the restart.
      expect(c.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
        status: "True",
        lastTransitionTime: readySince[i],
      });
    }
  });

  it("removes an Orphan connection's deployment from the stack but leaves it in Azure; the app keeps its record", async () => {
    await createProvisioned("orphan", "acme-openai", {
      deployment: { name: "kept" },
      deletionPolicy: "Orphan",
    });
    const c = await waitForCondition(namespace, "orphan", "Ready", "True", undefined, STEP_MS);
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o", "kept", "mini"]);
    const id = c.status?.appConnectionId as number;
    await deleteConnection(namespace, "orphan");
    await connectionGone("orphan");
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o", "mini"]);
    expect(deletedIds()).not.toContain("deployment-kept");
    expect(world.app.state.getConnection(id)).toBeDefined();
    await accountReady("acme-openai", ["gpt-4o", "mini"]);
  });

  it("deletes a Delete connection's deployment and app record; the account stays for the others", async () => {
    const mini = (await getConnection(namespace, "mini")) as ProviderConnection;
    const id = mini.status?.appConnectionId as number;
    await deleteConnection(namespace, "mini");
    await connectionGone("mini");
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o"]);
    expect(deletedIds()).toContain("deployment-mini");
    expect(world.app.state.getConnection(id)).toBeUndefined();
    await accountReady("acme-openai", ["gpt-4o"]);
    expect(await stacksInBackend()).toEqual([stackOf("acme-openai")]);
    // The rotation ran once, whatever reconciled since.
    expect(regenerations.filter((r) => r.account === "acme-openai")).toHaveLength(2);
    const rest = await waitForCondition(namespace, "gpt-4o", "Ready", "True", undefined, STEP_MS);
    expect(appRecordOf(rest)?.secrets.api_key).toBe(keysOf("acme-openai").key2);
  });

  it("says AccountNotReady, naming the account, while its update fails; and syncs once it succeeds", async () => {
    await putSecret(namespace, "other-sp", { ...SP_DATA, clientSecret: undefined } as unknown as Record<
      string,
      string
    >);
    await createAccount("broken-openai", {
      spec: { credentials: { servicePrincipal: { secretRef: { name: "other-sp" } } } },
    });
    await createProvisioned("waiting", "broken-openai");
    // The connection follows the account: first "not reconciled yet", then the account's own failure.
    const c = await waitFor(
      async () => {
        const conn = await getConnection(namespace, "waiting");
        const provisioned = conn?.status?.conditions?.find((x) => x.type === "Provisioned");
        return provisioned?.message?.includes("has no clientSecret") ? conn : undefined;
      },
      { timeoutMs: STEP_MS, description: "waiting says why its account is not ready" },
    );
    expect(c.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
      status: "False",
      reason: "AccountNotReady",
    });
    expect(c.status?.conditions?.find((x) => x.type === "Provisioned")?.message).toMatch(
      /^waiting for AzureOpenAIAccount broken-openai \(deployment waiting is (Failed|Pending|not made yet)\): updating Azure account rg-llm\/broken-openai .*failed: .*Azure credentials Secret other-sp has no clientSecret/,
    );
    const account = await getAccount("broken-openai");
    expect(accountCondition(account, "Ready")).toMatchObject({ status: "False", reason: "ProvisionFailed" });
    expect(accountCondition(account, "Reconciling")).toMatchObject({ status: "True" });
    // The credentials Secret is watched: fixing it brings the account, then the connection, to Ready.
    await putSecret(namespace, "other-sp", SP_DATA);
    await waitForCondition(namespace, "waiting", "Ready", "True", undefined, STEP_MS);
    await deleteConnection(namespace, "waiting");
    await connectionGone("waiting");
  });

  it("destroys the account, its deployments and its stack when an account with deletionPolicy Delete goes", async () => {
    const runs = deletedIds().length;
    await deleteAccount("broken-openai");
    await gone("broken-openai", () => getAccount("broken-openai"));
    expect(await stacksInBackend()).not.toContain(stackOf("broken-openai"));
    expect(await keySecret("broken-openai")).toBeUndefined();
    expect(deletedIds().length).toBeGreaterThanOrEqual(runs);
    // acme-openai with its connection: the account goes, the connection then says so.
    await deleteAccount("acme-openai");
    await gone("acme-openai", () => getAccount("acme-openai"));
    expect(deletedIds()).toContain("deployment-gpt-4o");
    expect(deletedIds()).not.toContain("deployment-kept"); // the Orphan connection's deployment had left the stack
    expect(await stacksInBackend()).toEqual([]);
    await waitForCondition(namespace, "gpt-4o", "Ready", "False", "AccountNotFound", STEP_MS);
    await deleteConnection(namespace, "gpt-4o");
    await connectionGone("gpt-4o");
  });

  it("leaves Azure and the stack alone when an account with deletionPolicy Orphan goes", async () => {
    await createAccount("solo-openai", { deletionPolicy: "Orphan" });
    // An account without connections is provisioned alone: ready before its first connection.
    await accountReady("solo-openai", []);
    expect(runsOf("solo-openai").at(-1)?.deployments).toEqual([]);
    await createProvisioned("solo", "solo-openai");
    await waitForCondition(namespace, "solo", "Ready", "True", undefined, STEP_MS);
    const runs = runsOf("solo-openai").length;
    await deleteAccount("solo-openai");
    await gone("solo-openai", () => getAccount("solo-openai"));
    expect(runsOf("solo-openai")).toHaveLength(runs);
    expect(deletedIds()).not.toContain("deployment-solo");
    expect(await stacksInBackend()).toEqual([stackOf("solo-openai")]);
    await deleteConnection(namespace, "solo");
    await connectionGone("solo");
    const c = await getConnection(namespace, "solo");
    expect(c?.metadata.finalizers ?? []).not.toContain(FINALIZER);
  });

  it("refuses a bad subnet id at kubectl apply, naming the field", async () => {
    const manifest = accountManifest("bad-subnet", {
      spec: { networkRules: { virtualNetworkSubnetIds: ["/subscriptions/x/not-a-subnet"] } },
    });
    const result = await testCluster().kubectl(["apply", "-f", "-"], { input: JSON.stringify(manifest) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /spec\.networkRules\.virtualNetworkSubnetIds\[0\].*must be a subnet resource ID/,
    );
    expect(await getAccount("bad-subnet")).toBeUndefined();
  });
});
