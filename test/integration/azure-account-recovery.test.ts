// Azure OpenAI accounts through the operator's account controller, when things go wrong: the leader SIGKILLed in
// the middle of an update (the next leader continues from the state in the Secret and creates nothing twice), and
// a passphrase Secret that is missing (a clear condition naming it, nothing created, Ready once it exists). The
// real API server, the app stand-in, the real Pulumi engine on the cloud-free stand-in program of state-program.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import type { AzureOpenAIAccount } from "../../operator/azure/account.ts";
import { stackNameFor } from "../../operator/azure/stack-name.ts";
import { systemClock } from "../../operator/clock.ts";
import { createLeaderElector, type LeaderElector } from "../../operator/leader.ts";
import { createLogger } from "../../operator/log.ts";
import { CHECKPOINT_KEY, decodeCheckpoint, stateObjectName } from "../../operator/pulumi-state/index.ts";
import { standInAccountController } from "../support/account-operator.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { processFamily } from "../support/process-family.ts";
import { createsIn } from "../support/state-program.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createAzureAccount,
  createConnection,
  createOrganization,
  getConnection,
  putSecret,
  startAppWithOwner,
  TEST_SUBSCRIPTION,
  waitForCondition,
} from "../support/world.ts";

const engine = existsSync(join(process.env.MODELKEYS_PULUMI_DIR ?? "/nonexistent", "bin", "pulumi"))
  ? describe
  : describe.skip;
if (process.env.CI === "true" && !process.env.MODELKEYS_PULUMI_DIR) {
  throw new Error("the Pulumi CLI is required in CI: set MODELKEYS_PULUMI_DIR=$(bash local/pulumi/build.sh)");
}

const SUBSCRIPTION = TEST_SUBSCRIPTION;
const STEP_MS = 120_000;
const LEADER_LEASE = "modelkeys-recovery-leader";
const SP_DATA = {
  clientId: "00000000-0000-0000-0000-0000000000c1",
  clientSecret: "canary-sp-secret-Hw3k8Rz1",
  tenantId: "00000000-0000-0000-0000-0000000000t1",
  subscriptionId: SUBSCRIPTION,
};

let namespace: string;
let root: string;
let world: AppWithOwner;
/** Whatever runs the controllers in this process now, stopped before the next one starts. */
let running: { stop(): Promise<void> } | undefined;
const logs: string[] = [];

/** A fresh disk (CLI home and work directory) for one operator process. */
function disk(name: string): string {
  const base = mkdtempSync(join(root, `${name}-`));
  mkdirSync(join(base, "home"));
  mkdirSync(join(base, "work"));
  return base;
}

/** A stand-in "Azure": `ledger` (one line per create) and `cloud/`. */
function standInWorld(name: string): string {
  const dir = join(root, `world-${name}`);
  mkdirSync(join(dir, "cloud"), { recursive: true });
  writeFileSync(join(dir, "ledger"), "");
  return dir;
}
const ledger = (dir: string) => createsIn(readFileSync(join(dir, "ledger"), "utf8"));

const log = () =>
  createLogger({ level: "debug", destination: { write: (line: string) => void logs.push(line) } });

const accounts = () => ({
  group: "modelkeys.dev",
  version: "v1alpha1",
  namespace,
  plural: "azureopenaiaccounts",
});

const createAccount = (name: string, spec: Record<string, unknown> = {}) =>
  createAzureAccount(namespace, name, spec);

async function getAccount(name: string): Promise<AzureOpenAIAccount | undefined> {
  return (await testCluster()
    .custom.getNamespacedCustomObject({ ...accounts(), name })
    .catch(() => undefined)) as AzureOpenAIAccount | undefined;
}

const readyOf = (a: AzureOpenAIAccount | undefined) => a?.status?.conditions?.find((c) => c.type === "Ready");

/** Waits until the account is Ready for its generation with `deployments` Succeeded. */
function accountReady(name: string, deployments: string[]): Promise<AzureOpenAIAccount> {
  return waitFor(
    async () => {
      const a = await getAccount(name);
      const made = (a?.status?.deployments ?? [])
        .filter((d) => d.state === "Succeeded")
        .map((d) => d.name)
        .sort();
      return readyOf(a)?.status === "True" &&
        a?.status?.observedGeneration === a?.metadata.generation &&
        JSON.stringify(made) === JSON.stringify(deployments)
        ? a
        : undefined;
    },
    { timeoutMs: STEP_MS, description: `AzureOpenAIAccount ${name} Ready with ${deployments.join(", ")}` },
  );
}

/** A connection of the app that names `account`, with a deployment named `deployment`. */
const createProvisioned = (name: string, account: string, deployment: string) =>
  createConnection(namespace, name, {
    organizationRef: { name: "acme" },
    provider: "AzureOpenAI",
    azure: {
      provision: {
        accountRef: { name: account },
        deployment: {
          name: deployment,
          model: "gpt-4o",
          version: "2024-11-20",
          sku: { name: "GlobalStandard", capacity: 10 },
        },
      },
    },
    deletionPolicy: "Delete",
  });

interface Checkpoint {
  resources?: { urn: string; type: string }[];
  pending_operations?: { type: string; resource: { urn: string } }[];
}

/** The account's checkpoint as its state Secret holds it. */
async function storedCheckpoint(account: string): Promise<Checkpoint | undefined> {
  const name = stateObjectName(
    stackNameFor({ accountName: account, resourceGroupName: "rg-llm", subscriptionId: SUBSCRIPTION }),
  );
  const secret = await testCluster()
    .core.readNamespacedSecret({ namespace, name })
    .catch(() => undefined);
  const data = secret?.data?.[CHECKPOINT_KEY];
  return data ? (decodeCheckpoint(Buffer.from(data, "base64")).deployment as Checkpoint) : undefined;
}

const leaderOf = async (lease: string) =>
  (await testCluster().coordination.readNamespacedLease({ namespace, name: lease })).spec?.holderIdentity;

/**
 * The operator in this process, as the next leader: it stands for election on the child's Lease (short
 * timings) and, once leading, runs the connection and account controllers on the stand-in engine.
 */
async function startSuccessor(worldDir: string): Promise<LeaderElector> {
  const kc = testCluster().operator.kube;
  await testCluster().installOperatorRbac();
  const elector = createLeaderElector({
    kc,
    namespace,
    name: LEADER_LEASE,
    identity: "successor",
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 500,
    clock: systemClock,
  });
  let operator: Promise<TestOperator> | undefined;
  void elector.run(new AbortController().signal, {
    onStartedLeading: () => {
      operator = startTestOperator({
        namespace,
        checkModels: answersValid("gpt-4o"),
        provisioning: standInAccountController({
          kc,
          stateKc: testCluster().operator.kubeConfig,
          identity: "successor",
          namespace,
          base: disk("successor"),
          world: worldDir,
          log: log(),
        }),
      });
    },
    onStoppedLeading: async () => {
      await (await operator)?.stop();
    },
  });
  running = { stop: () => elector.release() };
  return elector;
}

engine("Azure OpenAI accounts through the operator, when things go wrong", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "modelkeys-account-recovery-"));
    namespace = await testCluster().createTestNamespace("account-recovery");
    world = await startAppWithOwner();
    await createOrganization(namespace, "acme", world.app.url, world.token);
    await putSecret(namespace, "azure-sp", SP_DATA);
    await putSecret(namespace, "modelkeys-pulumi", { passphrase: "canary-pulumi-passphrase-Xc4n" });
    await testCluster().installOperatorRbac();
  });

  afterAll(async () => {
    if (process.env.DEBUG_AOAI) writeFileSync(process.env.DEBUG_AOAI, logs.join(""));
    await running?.stop();
    await world?.app.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("continues after the leader is SIGKILLed mid-update: the next leader resumes from the state Secret and creates nothing twice", async () => {
    const w = standInWorld("killed");
    await createAccount("acme-openai");
    // Deployments are created in name order, each after the previous: fast-chat, then slow-chat (held).
    await createProvisioned("chat", "acme-openai", "fast-chat");
    await createProvisioned("slow", "acme-openai", "slow-chat");
    const family = processFamily();
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/account-child.ts"],
      {
        cwd: REPO_ROOT,
        // A process group of its own (the plugins the CLI starts have theirs: the family's marker finds them).
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          ...family.env,
          ACCOUNT_CHILD: JSON.stringify({
            kubeconfig: testCluster().paths.operatorKubeconfigPath,
            namespace,
            base: disk("child"),
            world: w,
            leaseName: LEADER_LEASE,
            identity: "child",
          }),
        },
      },
    );
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      // Mid-update: fast-chat created and slow-chat's create under way, both already in the state Secret.
      await waitFor(
        async () => {
          const d = await storedCheckpoint("acme-openai");
          const created = d?.resources?.some((r) => r.urn.endsWith("fast-chat"));
          const creating = d?.pending_operations?.some(
            (op) => op.type === "creating" && op.resource.urn.endsWith("slow-chat"),
          );
          return created && creating;
        },
        { timeoutMs: STEP_MS, description: `fast-chat created and slow-chat creating (child: ${output})` },
      );
      expect(await leaderOf(LEADER_LEASE)).toBe("child");
      // The crash, as a pod's end: the child, the Pulumi CLI and its provider plugins, all at once.
      expect(family.kill()).toBeGreaterThan(1);
      await exited;
    } finally {
      family.kill();
    }
    await waitFor(() => family.members().length === 0, { description: "the child's processes gone" });
    expect(ledger(w)).toEqual({ "fast-chat": 1, "slow-chat": 1 });

    // slow-chat's create would now finish in "Azure"; the next leader takes over both Leases once they expire.
    writeFileSync(join(w, "release"), "");
    await startSuccessor(w);
    await accountReady("acme-openai", ["fast-chat", "slow-chat"]);
    expect(await leaderOf(LEADER_LEASE)).toBe("successor");
    expect(ledger(w)).toEqual({ "fast-chat": 1, "slow-chat": 1 });
    const after = await storedCheckpoint("acme-openai");
    expect(after?.pending_operations ?? []).toEqual([]);
    expect(after?.resources?.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource")).toHaveLength(2);
    // And the connections sync the app with the account's key.
    for (const name of ["chat", "slow"]) {
      const c = await waitForCondition(namespace, name, "Ready", "True", undefined, STEP_MS);
      const record = world.app.state.getConnection(c.status?.appConnectionId ?? -1);
      expect(record?.secrets.api_key).toBe("primary-key-of-acme-openai");
    }
  });

  it("says which passphrase Secret is missing and how to create it, creates nothing, and goes on once it exists", async () => {
    await running?.stop();
    const w = standInWorld("locked");
    // With a backend URL of its own the operator may not make a passphrase (the state may already be encrypted
    // with another one), so a missing Secret is the user's to create.
    const backend = join(root, "backend");
    mkdirSync(backend);
    const operator = await startTestOperator({
      namespace,
      checkModels: answersValid("gpt-4o"),
      provisioning: standInAccountController({
        kc: testCluster().operator.kube,
        identity: "operator",
        namespace,
        base: disk("operator"),
        world: w,
        log: log(),
        // The production backoff's scale: only the watch of the passphrase Secret can bring the retry in time.
        backoff: { baseMs: 600_000, maxMs: 600_000 },
      }),
    });
    running = operator;
    await createAccount("locked-openai", {
      stateBackend: {
        url: `file://${backend}`,
        passphraseSecretRef: { name: "locked-passphrase", key: "passphrase" },
      },
    });
    await createProvisioned("locked", "locked-openai", "locked-chat");
    const account = await waitFor(
      async () => {
        const a = await getAccount("locked-openai");
        return readyOf(a)?.message?.includes("passphrase") ? a : undefined;
      },
      { timeoutMs: STEP_MS, description: "the account says its passphrase Secret is missing" },
    );
    expect(readyOf(account)).toMatchObject({ status: "False", reason: "ProvisionFailed" });
    expect(readyOf(account)?.message).toContain(
      `Pulumi passphrase Secret ${namespace}/locked-passphrase not found: create it, e.g. kubectl -n ${namespace} create secret generic locked-passphrase --from-literal=passphrase=`,
    );
    expect(ledger(w)).toEqual({});
    const c = await getConnection(namespace, "locked");
    expect(c?.status?.conditions?.find((x) => x.type === "Ready")).toMatchObject({
      status: "False",
      reason: "AccountNotReady",
    });

    await putSecret(namespace, "locked-passphrase", { passphrase: "canary-locked-passphrase-Pk2w" });
    await accountReady("locked-openai", ["locked-chat"]);
    expect(ledger(w)).toEqual({ "locked-chat": 1 });
    await waitForCondition(namespace, "locked", "Ready", "True", undefined, STEP_MS);
    // No passphrase (nor the service principal's secret) in any log line or the account's status.
    const written =
      logs.join("") + operator.logs() + JSON.stringify((await getAccount("locked-openai"))?.status);
    for (const secret of [
      "canary-locked-passphrase-Pk2w",
      "canary-pulumi-passphrase-Xc4n",
      SP_DATA.clientSecret,
    ])
      expect(written).not.toContain(secret);
  });
});
