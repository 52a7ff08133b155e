// Azure provisioning end to end: the real API server, the app stand-in, the in-process operator and the real
// Pulumi engine running a cloud-free program (a component and dynamic resources standing in for the account
// and its deployments). The owned Secret, the app's record, status.azure, one stack per account, deletion
// with both policies, key rotation in the right order, and no secret anywhere the operator writes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import type { AccountKeyService } from "../../operator/azure/account-keys.ts";
import { operatorProvisioning } from "../../operator/azure/engine.ts";
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
  createConnection,
  createOrganization,
  deleteConnection,
  eventsFor,
  getConnection,
  patchConnection,
  putSecret,
  startAppWithOwner,
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
const SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1";
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

/** The stacks whose state is kept (the operator's default: a Secret per stack, here in the test's namespace). */
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

function provisionSpec(
  account: string,
  extra: { deployment?: Record<string, unknown>; allowedAddresses?: string[] } = {},
) {
  return {
    account: {
      name: account,
      resourceGroup: "rg-llm",
      location: "eastus",
      subscriptionId: SUBSCRIPTION,
      credentialsSecretRef: { name: "azure-sp" },
    },
    deployment: {
      model: "gpt-4o",
      version: "2024-11-20",
      sku: { name: "GlobalStandard", capacity: 20 },
      ...extra.deployment,
    },
    allowedAddresses: extra.allowedAddresses ?? [],
  };
}

async function createProvisioned(
  name: string,
  account: string,
  extra: Parameters<typeof provisionSpec>[1] & { deletionPolicy?: "Delete" | "Orphan" } = {},
): Promise<void> {
  await createConnection(namespace, name, {
    organizationRef: { name: "acme" },
    provider: "AzureOpenAI",
    azure: { provision: provisionSpec(account, extra) },
    deletionPolicy: extra.deletionPolicy ?? "Delete",
  });
}

const ownedSecret = async (name: string) => {
  try {
    return await testCluster().core.readNamespacedSecret({ namespace, name: `${name}-azure-openai` });
  } catch {
    return undefined;
  }
};
const decoded = (data: Record<string, string> | undefined) =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
const appRecordOf = (c: ProviderConnection) => world.app.state.getConnection(c.status?.appConnectionId ?? -1);
const gone = (name: string) =>
  waitFor(async () => ((await getConnection(namespace, name)) ? undefined : true), {
    timeoutMs: STEP_MS,
    description: `${name} deleted`,
  });

/** Logs of every operator this file started (the canary scan reads them all). */
const logSources: (() => string)[] = [];

/** The in-process operator with Azure provisioning wired as main.ts wires it, on the cloud-free engine. */
async function startOperator(): Promise<TestOperator> {
  const lines: string[] = [];
  const provisioningLog = createLogger({
    level: "debug",
    destination: { write: (l: string) => void lines.push(l) },
  });
  const provisioning = operatorProvisioning({
    kc: testCluster().operator.kube,
    config: {
      identity: "azure-provisioning-test",
      // No backend URL: the stacks' state is kept in Secrets, locked by Leases (the install's default).
      pulumiBackendUrl: undefined,
      pulumiPassphraseSecret: { namespace, name: "modelkeys-pulumi", key: "passphrase" },
    },
    log: provisioningLog,
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
  const started = await startTestOperator({
    namespace,
    provisioning,
    checkModels: answersValid("gpt-4o"),
  });
  logSources.push(started.logs, () => lines.join(""));
  return { ...started, logs: () => logSources.map((source) => source()).join("") };
}

engine("Azure provisioning through the operator", () => {
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "modelkeys-provisioning-"));
    deleteLog = join(base, "deleted.log");
    mkdirSync(join(base, "home"));
    mkdirSync(join(base, "work"));
    namespace = await testCluster().createTestNamespace("azure-provisioning");
    world = await startAppWithOwner();
    await createOrganization(namespace, "acme", world.app.url, world.token);
    await putSecret(namespace, "azure-sp", {
      clientId: "00000000-0000-0000-0000-0000000000c1",
      clientSecret: SP_SECRET,
      tenantId: "00000000-0000-0000-0000-0000000000t1",
      subscriptionId: SUBSCRIPTION,
    });
    // The passphrase Secret, as the install manifest names it (here in the test's namespace).
    await putSecret(namespace, "modelkeys-pulumi", { passphrase: PASSPHRASE });
    operator = await startOperator();
  });

  afterAll(async () => {
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

  it("provisions a connection: the owned Secret, the app's record, status.azure and Provisioned=True", async () => {
    await createProvisioned("gpt-4o", "acme-openai", { allowedAddresses: ["203.0.113.10"] });
    const c = await waitForCondition(namespace, "gpt-4o", "Ready", "True", undefined, STEP_MS);
    expect(c.status?.conditions?.find((x) => x.type === "Provisioned")).toMatchObject({
      status: "True",
      reason: "Provisioned",
    });
    const keys = keysOf("acme-openai");
    const secret = await ownedSecret("gpt-4o");
    expect(decoded(secret?.data)).toEqual({
      "api-key": keys.key1,
      endpoint: "https://acme-openai.openai.azure.com/",
      deployment: "gpt-4o",
    });
    expect(secret?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: "ProviderConnection",
        name: "gpt-4o",
        uid: c.metadata.uid,
        controller: true,
      }),
    ]);
    const record = appRecordOf(c);
    expect(record).toMatchObject({
      provider: "AzureOpenAI",
      deployment_name: "gpt-4o",
      endpoint: "https://acme-openai.openai.azure.com/",
    });
    expect(record?.secrets.api_key).toBe(keys.key1);
    expect(c.status?.azure).toMatchObject({
      accountName: "acme-openai",
      endpoint: "https://acme-openai.openai.azure.com/",
      deployment: "gpt-4o",
      model: "gpt-4o",
      allowedAddresses: ["3.219.3.197", "34.237.73.3", "44.216.17.242", "203.0.113.10"],
      stack: stackNameFor({
        accountName: "acme-openai",
        resourceGroupName: "rg-llm",
        subscriptionId: SUBSCRIPTION,
      }),
      lastUpdateResult: "Succeeded",
    });
    expect(Date.parse(c.status?.azure?.lastUpdateTime ?? "")).toBeGreaterThan(0);
  });
  it("shares one stack between the connections of one account, with both deployments and both address lists", async () => {
    await createProvisioned("mini", "acme-openai", {
      deployment: { name: "mini", model: "gpt-4o-mini", version: "2024-07-18" },
      allowedAddresses: ["198.51.100.0/24"],
    });
    await waitForCondition(namespace, "mini", "Ready", "True", undefined, STEP_MS);
    const allowed = ["3.219.3.197", "34.237.73.3", "44.216.17.242", "198.51.100.0/24", "203.0.113.10"];
    // The first connection follows: the second's update changed the account's address list.
    const first = await waitFor(
      async () => {
        const c = await getConnection(namespace, "gpt-4o");
        return JSON.stringify(c?.status?.azure?.allowedAddresses) === JSON.stringify(allowed) ? c : undefined;
      },
      { timeoutMs: STEP_MS, description: "gpt-4o's status.azure shows both connections' addresses" },
    );
    const mini = (await getConnection(namespace, "mini")) as ProviderConnection;
    expect(mini.status?.azure).toMatchObject({
      deployment: "mini",
      model: "gpt-4o-mini",
      allowedAddresses: allowed,
    });
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o", "mini"]);
    expect(await stacksInBackend()).toEqual([stackOf("acme-openai")]);
    // One account, one key: both apps hold it.
    const keys = keysOf("acme-openai");
    expect(appRecordOf(first)?.secrets.api_key).toBe(keys.key1);
    expect(appRecordOf(mini)?.secrets.api_key).toBe(keys.key1);
    expect(appRecordOf(mini)).toMatchObject({
      deployment_name: "mini",
      endpoint: "https://acme-openai.openai.azure.com/",
    });
  });

  it("refuses a connection that names the account with other settings, naming the earlier connection", async () => {
    const runs = programRuns.length;
    await createConnection(namespace, "westus", {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      azure: {
        provision: {
          ...provisionSpec("acme-openai"),
          account: { ...provisionSpec("acme-openai").account, location: "westus" },
        },
      },
    });
    const c = await waitForCondition(namespace, "westus", "Provisioned", "False", "ProvisionFailed", STEP_MS);
    expect(c.status?.conditions?.find((x) => x.type === "Provisioned")?.message).toMatch(
      new RegExp(
        `provisioned by ProviderConnection ${namespace}/gpt-4o .*location "eastus" there, "westus" here`,
      ),
    );
    expect(c.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ProvisionFailed",
    });
    await deleteConnection(namespace, "westus");
    await gone("westus");
    expect(programRuns.length).toBe(runs);
  });

  it("rotates the keys on request: key2 regenerated, every app PATCHed with it, only then key1 regenerated", async () => {
    const requested = "2026-11-27T10:00:00Z";
    const before = keysOf("acme-openai");
    const oldKey1 = before.key1;
    await patchConnection(namespace, "gpt-4o", {
      metadata: { annotations: { "modelkeys.dev/rotate-key-requested-at": requested } },
    });
    const c = await waitFor(
      async () => {
        const conn = await getConnection(namespace, "gpt-4o");
        return conn?.status?.azure?.rotateKeyRequestedAt === requested ? conn : undefined;
      },
      { timeoutMs: STEP_MS, description: "the rotation request handled in status" },
    );
    const mini = (await getConnection(namespace, "mini")) as ProviderConnection;
    const after = keysOf("acme-openai");
    const rotations = regenerations.filter((r) => r.account === "acme-openai");
    expect(rotations.map((r) => r.key)).toEqual(["key2", "key1"]);
    const [key2Regenerated, key1Regenerated] = rotations as [(typeof rotations)[0], (typeof rotations)[0]];
    // Each app got the new key2 after it existed and before key1 (which it held until then) was regenerated.
    for (const conn of [c, mini]) {
      const id = conn.status?.appConnectionId;
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
      // No request after key1's regeneration gave the app the old key1.
      const stale = world.app.state.requests
        .slice(key1Regenerated.appRequestsBefore)
        .some((r) => (r.body as { api_key?: string } | undefined)?.api_key === oldKey1);
      expect(stale).toBe(false);
      // The app ends on a live key, and so do the owned Secrets.
      expect(appRecordOf(conn)?.secrets.api_key).toBe(after.key2);
      expect(decoded((await ownedSecret(conn.metadata.name))?.data)["api-key"]).toBe(after.key2);
    }
    expect(after.key1).not.toBe(oldKey1);
    expect(c.status?.azure?.keyRotatedTime).toBeDefined();
    expect(await eventsFor(namespace, "gpt-4o")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Normal KeyRotated: /)]),
    );
  });

  it("keeps serving across an operator restart: the apps stay Ready and on their key while the stack is updated again", async () => {
    const key = keysOf("acme-openai").key2; // the rotation left every Secret and app on key2
    const before = await Promise.all(["gpt-4o", "mini"].map((n) => getConnection(namespace, n)));
    const readySince = before.map(
      (c) => c?.status?.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime,
    );
    const requests = world.app.state.requests.length;
    const runs = runsOf("acme-openai").length;
    await operator.stop();
    operator = await startOperator();
    const after = await Promise.all(
      before.map((c) =>
        waitFor(
          async () => {
            const now = await getConnection(namespace, c?.metadata.name as string);
            const provisioned = now?.status?.conditions?.find((x) => x.type === "Provisioned");
            const updated =
              (now?.status?.azure?.lastUpdateTime ?? "") > (c?.status?.azure?.lastUpdateTime ?? "");
            return updated && provisioned?.status === "True" ? now : undefined;
          },
          { timeoutMs: STEP_MS, description: `${c?.metadata.name} provisioned by the new process` },
        ),
      ),
    );
    // The new process updated the stack once and carried on with the key the Secrets hold.
    expect(runsOf("acme-openai")).toHaveLength(runs + 1);
    const pushed = world.app.state.requests
      .slice(requests)
      .map((r) => (r.body as { api_key?: string } | undefined)?.api_key)
      .filter((k) => k !== undefined);
    expect(pushed.every((k) => k === key)).toBe(true);
    for (const [i, c] of after.entries()) {
      expect(appRecordOf(c)?.secrets.api_key).toBe(key);
      expect(decoded((await ownedSecret(c.metadata.name))?.data)["api-key"]).toBe(key);
      // Ready never flipped: its transition time is the one from before the restart.
      expect(c.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
        status: "True",
        lastTransitionTime: readySince[i],
      });
    }
  });

  it("deletes an Orphan connection without touching Azure: its deployment is retained, the app keeps its record", async () => {
    await createProvisioned("orphan", "acme-openai", {
      deployment: { name: "kept" },
      deletionPolicy: "Orphan",
    });
    const c = await waitForCondition(namespace, "orphan", "Ready", "True", undefined, STEP_MS);
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o", "kept", "mini"]);
    const id = c.status?.appConnectionId as number;
    await deleteConnection(namespace, "orphan");
    await gone("orphan");
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o", "mini"]);
    expect(deletedIds()).not.toContain("deployment-kept");
    expect(world.app.state.getConnection(id)).toBeDefined();
    expect(await ownedSecret("orphan")).toBeUndefined();
  });

  it("deletes a Delete connection's deployment and app record; the account stays for the others", async () => {
    const mini = (await getConnection(namespace, "mini")) as ProviderConnection;
    const id = mini.status?.appConnectionId as number;
    await deleteConnection(namespace, "mini");
    await gone("mini");
    expect(runsOf("acme-openai").at(-1)?.deployments).toEqual(["gpt-4o"]);
    expect(deletedIds()).toContain("deployment-mini");
    expect(world.app.state.getConnection(id)).toBeUndefined();
    expect(await ownedSecret("mini")).toBeUndefined();
    expect(await stacksInBackend()).toEqual([stackOf("acme-openai")]);
    // The rotation ran once, whatever reconciled since.
    expect(regenerations.filter((r) => r.account === "acme-openai")).toHaveLength(2);
    const rest = await waitForCondition(namespace, "gpt-4o", "Ready", "True", undefined, STEP_MS);
    expect(appRecordOf(rest)?.secrets.api_key).toBe(keysOf("acme-openai").key2);
  });

  it("destroys the account and its stack with its last Delete connection", async () => {
    await deleteConnection(namespace, "gpt-4o");
    await gone("gpt-4o");
    expect(deletedIds()).toContain("deployment-gpt-4o");
    // The Orphan connection's deployment left the stack before: the destroy did not take it.
    expect(deletedIds()).not.toContain("deployment-kept");
    expect(await stacksInBackend()).toEqual([]);
    expect(await ownedSecret("gpt-4o")).toBeUndefined();
  });

  it("leaves the account and its stack when the last connection is Orphan", async () => {
    await createProvisioned("solo", "solo-openai", { deletionPolicy: "Orphan" });
    const c = await waitForCondition(namespace, "solo", "Ready", "True", undefined, STEP_MS);
    const id = c.status?.appConnectionId as number;
    const runs = runsOf("solo-openai").length;
    await deleteConnection(namespace, "solo");
    await gone("solo");
    expect(runsOf("solo-openai")).toHaveLength(runs);
    expect(deletedIds()).not.toContain("deployment-solo");
    expect(await stacksInBackend()).toEqual([stackOf("solo-openai")]);
    expect(world.app.state.getConnection(id)).toBeDefined();
  });

  it("keeps the finalizer while the removal fails, says why, and finishes once it can", async () => {
    await createProvisioned("stuck", "stuck-openai");
    await waitForCondition(namespace, "stuck", "Ready", "True", undefined, STEP_MS);
    await testCluster().core.deleteNamespacedSecret({ namespace, name: "azure-sp" });
    await deleteConnection(namespace, "stuck");
    const c = await waitForCondition(namespace, "stuck", "Provisioned", "False", "ProvisionFailed", STEP_MS);
    expect(c.metadata.finalizers).toContain(FINALIZER);
    expect(c.status?.conditions?.find((x) => x.type === "Provisioned")?.message).toMatch(
      /deleting Azure account stuck-openai.* failed: Azure credentials Secret azure-sp not found; .*modelkeys\.dev\/release=true/,
    );
    expect(await stacksInBackend()).toContain(stackOf("stuck-openai"));
    // The credentials come back: the watched Secret brings the connection back, the account goes.
    await putSecret(namespace, "azure-sp", {
      clientId: "00000000-0000-0000-0000-0000000000c1",
      clientSecret: SP_SECRET,
      tenantId: "00000000-0000-0000-0000-0000000000t1",
      subscriptionId: SUBSCRIPTION,
    });
    await gone("stuck");
    expect(await stacksInBackend()).not.toContain(stackOf("stuck-openai"));
    expect(deletedIds()).toContain("deployment-stuck");
  });
});
