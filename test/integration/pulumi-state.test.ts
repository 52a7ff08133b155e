// Pulumi state kept in the cluster, with the real engine and the real API server: the checkpoint in a
// Secret survives a new provisioner with an empty disk, a SIGKILL mid-update (the next holder takes the
// Lease over after it expires and creates nothing twice), two provisioners take turns on a stack's Lease,
// a checkpoint over the limit is refused whole, destroy removes the Secret, the passphrase Secret is made
// once or reported missing.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import {
  type ProvisionEvent,
  type PulumiAutomationOptions,
  PulumiAutomationProvisioner,
} from "../../operator/azure/automation.ts";
import { ensurePassphrase, PassphraseMissingError } from "../../operator/azure/passphrase.ts";
import { stackNameFor } from "../../operator/azure/stack-name.ts";
import { LockLostError, StateTooLargeError } from "../../operator/azure/state-store.ts";
import { isStatus } from "../../operator/kube/client.ts";
import {
  CHECKPOINT_KEY,
  decodeCheckpoint,
  KubernetesStateStore,
  kubernetesPassphraseSecrets,
  STATE_SECRET_TYPE,
  stateObjectName,
} from "../../operator/pulumi-state/index.ts";
import { testCluster } from "../support/cluster.ts";
import { serviceAccountKubeconfig } from "../support/plugin.ts";
import { processFamily } from "../support/process-family.ts";
import {
  createsIn,
  engineOptions,
  standInPendingCreateId,
  standInProgram,
  stateAccount,
  stateCredentials,
  stateDeployment,
} from "../support/state-program.ts";
import { waitFor } from "../support/wait.ts";

const engine = existsSync(join(process.env.MODELKEYS_PULUMI_DIR ?? "/nonexistent", "bin", "pulumi"))
  ? describe
  : describe.skip;
if (process.env.CI === "true" && !process.env.MODELKEYS_PULUMI_DIR) {
  throw new Error("the Pulumi CLI is required in CI: set MODELKEYS_PULUMI_DIR=$(bash local/pulumi/build.sh)");
}

let namespace: string;
let root: string;

/** A fresh disk: CLI home and work directory of their own, and a stand-in world. */
function disk(name: string) {
  const base = mkdtempSync(join(root, `${name}-`));
  mkdirSync(join(base, "home"));
  mkdirSync(join(base, "work"));
  return base;
}

function world(name: string) {
  const dir = join(root, `world-${name}`);
  mkdirSync(join(dir, "cloud"), { recursive: true });
  writeFileSync(join(dir, "ledger"), "");
  return dir;
}

const ledger = (dir: string) => createsIn(readFileSync(join(dir, "ledger"), "utf8"));

function provisioner(
  worldDir: string,
  options: {
    identity?: string;
    limitBytes?: number;
    events?: ProvisionEvent[];
    padding?: number;
    leaseDurationMs?: number;
  } = {},
): PulumiAutomationProvisioner {
  const store = new KubernetesStateStore({
    kc: testCluster().kubeConfig,
    identity: options.identity ?? "test",
    timing: { leaseDurationMs: options.leaseDurationMs ?? 4000, renewIntervalMs: 500, retryPeriodMs: 200 },
    ...(options.limitBytes ? { limitBytes: options.limitBytes } : {}),
  });
  const overrides: Partial<PulumiAutomationOptions> = options.events
    ? { onEvent: (e) => options.events?.push(e) }
    : {};
  return new PulumiAutomationProvisioner({
    ...engineOptions(disk(options.identity ?? "test")),
    state: { store, namespace, mirrorIntervalMs: 200, pendingCreateId: () => standInPendingCreateId },
    program: standInProgram({ dir: worldDir }, options.padding ?? 0),
    ...overrides,
  });
}

/** Reads and replaces until no other writer came in between (409 Conflict), at most 20 times. */
async function replacedWithoutConflict<T, R>(
  read: () => Promise<T>,
  replace: (current: T) => Promise<R>,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    try {
      return await replace(current);
    } catch (error) {
      if (!isStatus(error, 409) || attempt >= 20) throw error;
    }
  }
}

async function stateSecret(account: string) {
  const name = stateObjectName(stackNameFor(stateAccount(account, namespace)));
  return testCluster()
    .core.readNamespacedSecret({ namespace, name })
    .catch(() => undefined);
}

async function storedCheckpoint(account: string) {
  const secret = await stateSecret(account);
  const data = secret?.data?.[CHECKPOINT_KEY];
  return data ? decodeCheckpoint(Buffer.from(data, "base64")) : undefined;
}

interface Deployment {
  resources?: { urn: string; type: string }[];
  pending_operations?: { type: string; resource: { urn: string } }[];
}

const finished = (events: ProvisionEvent[]) =>
  events.filter((e) => e.event === "stack.operation.finished") as Extract<
    ProvisionEvent,
    { event: "stack.operation.finished" }
  >[];

engine("Pulumi state kept in Kubernetes", () => {
  beforeAll(async () => {
    namespace = await testCluster().createTestNamespace("pulumi-state");
    root = mkdtempSync(join(tmpdir(), "modelkeys-state-"));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("keeps the checkpoint in a Secret that a new provisioner with an empty disk continues from", async () => {
    const w = world("roundtrip");
    const account = stateAccount("roundtrip-openai", namespace);
    const first = await provisioner(w).up(
      account,
      [stateDeployment("a"), stateDeployment("b")],
      stateCredentials,
    );
    expect(first.deploymentNames).toEqual(["a", "b"]);

    const secret = await stateSecret("roundtrip-openai");
    expect(secret?.type).toBe(STATE_SECRET_TYPE);
    expect(secret?.metadata?.labels).toMatchObject({ "modelkeys.dev/pulumi-state": "true" });
    expect(secret?.metadata?.annotations?.["modelkeys.dev/pulumi-stack"]).toBe(stackNameFor(account));
    const text = JSON.stringify(await storedCheckpoint("roundtrip-openai"));
    expect(text).toContain("primaryKey");
    for (const secretValue of [
      "primary-key-of-roundtrip-openai",
      stateCredentials.clientSecret,
      "state-test-passphrase-7Hq2",
    ]) {
      expect(text).not.toContain(secretValue);
    }

    const events: ProvisionEvent[] = [];
    const again = await provisioner(w, { identity: "fresh", events }).up(
      account,
      [stateDeployment("a"), stateDeployment("b")],
      stateCredentials,
    );
    expect(again).toEqual(first);
    expect(finished(events).at(-1)?.changes).toEqual({ same: 4 });
    expect(ledger(w)).toEqual({ a: 1, b: 1 });
  });

  it("continues after a SIGKILL mid-update from the mirrored checkpoint, creating nothing twice", async () => {
    const w = world("killed");
    const name = "killed-openai";
    const base = disk("child");
    const family = processFamily();
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "test/support/state-child.ts"], {
      cwd: REPO_ROOT,
      // A process group of its own (the plugins the CLI starts have theirs: the family's marker finds them).
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...family.env,
        STATE_CHILD: JSON.stringify({
          kubeconfig: testCluster().paths.kubeconfigPath,
          namespace,
          base,
          world: w,
          account: name,
          deployments: ["fast-a", "slow-b", "fast-c"],
          leaseDurationMs: 3000,
        }),
      },
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      // Mid-update: fast-a created and slow-b's create under way, both already in the Secret.
      const pending = await waitFor(
        async () => {
          const d = (await storedCheckpoint(name))?.deployment as Deployment | undefined;
          const created = d?.resources?.some((r) => r.urn.endsWith("fast-a"));
          const creating = d?.pending_operations?.find((op) => op.type === "creating");
          return created && creating?.resource.urn.endsWith("slow-b") ? creating : undefined;
        },
        {
          timeoutMs: 90_000,
          description: `fast-a created and slow-b creating in the Secret (child: ${output})`,
        },
      );
      expect(pending.resource.urn).toContain("slow-b");
      // The crash, as a pod's end: the child, the Pulumi CLI and its provider plugins, all at once.
      expect(family.kill()).toBeGreaterThan(1);
      await exited;
    } finally {
      family.kill();
    }
    await waitFor(() => family.members().length === 0, { description: "the child's processes gone" });
    const lease = await testCluster().coordination.readNamespacedLease({
      namespace,
      name: stateObjectName(stackNameFor(stateAccount(name, namespace))),
    });
    expect(lease.spec?.holderIdentity).toMatch(/^child-/);
    expect(ledger(w)).toEqual({ "fast-a": 1, "slow-b": 1 });

    // The next holder waits out the dead holder's Lease, adopts slow-b (it exists) and creates only fast-c.
    writeFileSync(join(w, "release"), "");
    const events: ProvisionEvent[] = [];
    const result = await provisioner(w, { identity: "successor", events }).up(
      stateAccount(name, namespace),
      ["fast-a", "slow-b", "fast-c"].map((d) => stateDeployment(d)),
      stateCredentials,
    );
    expect(result.deploymentNames).toEqual(["fast-a", "slow-b", "fast-c"]);
    expect(ledger(w)).toEqual({ "fast-a": 1, "slow-b": 1, "fast-c": 1 });
    const settled = events.find((e) => e.event === "stack.state.pending_creates");
    expect(settled).toMatchObject({ cleared: [] });
    expect((settled as { adopted: string[] }).adopted).toEqual([expect.stringMatching(/slow-b$/)]);
    const after = (await storedCheckpoint(name))?.deployment as Deployment;
    expect(after.pending_operations ?? []).toEqual([]);
    expect(after.resources?.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource")).toHaveLength(3);
  });

  it("serializes two provisioners of one stack on its Lease", async () => {
    const w = world("contended");
    const account = stateAccount("contended-openai", namespace);
    const order: string[] = [];
    const track = (who: string): ProvisionEvent[] => {
      const events: ProvisionEvent[] = [];
      events.push = (...items) => {
        for (const e of items)
          if (e.event === "stack.operation.started" || e.event === "stack.operation.finished")
            order.push(`${who} ${e.event.replace("stack.operation.", "")}`);
        return Array.prototype.push.apply(events, items);
      };
      return events;
    };
    const one = provisioner(w, { identity: "one", events: track("one") });
    const two = provisioner(w, { identity: "two", events: track("two") });
    const first = one.up(account, [stateDeployment("slow-x")], stateCredentials);
    // One is inside its update, holding the Lease, when two asks for the stack.
    await waitFor(() => ledger(w)["slow-x"] === 1, { timeoutMs: 60_000, description: "one creating slow-x" });
    const second = two.up(account, [stateDeployment("slow-x"), stateDeployment("y")], stateCredentials);
    writeFileSync(join(w, "release"), "");
    const [a, b] = await Promise.all([first, second]);
    expect(a.deploymentNames).toEqual(["slow-x"]);
    expect(b.deploymentNames).toEqual(["slow-x", "y"]);
    expect(order).toEqual(["one started", "one finished", "two started", "two finished"]);
    expect(ledger(w)).toEqual({ "slow-x": 1, y: 1 });
  });

  it("fails an update whose Lease is taken from it with LockLostError, writing nothing over its successor", async () => {
    const w = world("usurped");
    const name = "usurped-openai";
    const account = stateAccount(name, namespace);
    const update = provisioner(w).up(account, [stateDeployment("slow-u")], stateCredentials);
    const outcome = update.catch((error: unknown) => error);
    await waitFor(() => ledger(w)["slow-u"] === 1, { timeoutMs: 60_000, description: "slow-u creating" });
    const leaseName = stateObjectName(stackNameFor(account));
    // As a usurper would, each write is read again and repeated when the holder wrote first (a renewal of the
    // Lease, a mirror of the checkpoint): a 409 is that race, not the behaviour under test.
    await replacedWithoutConflict(
      () => testCluster().coordination.readNamespacedLease({ namespace, name: leaseName }),
      (lease) =>
        testCluster().coordination.replaceNamespacedLease({
          namespace,
          name: leaseName,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: "usurper" } },
        }),
    );
    // The successor's first read stamps the Secret (as the store does): from then on the old holder's writes fail.
    const stamped = await replacedWithoutConflict(
      () => stateSecret(name),
      (current) =>
        testCluster().core.replaceNamespacedSecret({
          namespace,
          name: leaseName,
          body: {
            ...current,
            metadata: {
              ...current?.metadata,
              annotations: { ...current?.metadata?.annotations, "modelkeys.dev/state-holder": "usurper" },
            },
          },
        }),
    );
    // The engine lets the create in flight finish before it stops.
    writeFileSync(join(w, "release"), "");
    const error = await outcome;
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as Error).message).toMatch(/lost the lock of stack .*taken over/);
    expect((await stateSecret(name))?.metadata?.resourceVersion).toBe(stamped.metadata?.resourceVersion);
  });

  it("refuses a checkpoint over the Secret limit whole, keeping the previous state", async () => {
    const w = world("large");
    const name = "large-openai";
    const account = stateAccount(name, namespace);
    await provisioner(w).up(account, [stateDeployment("a")], stateCredentials);
    const before = await stateSecret(name);
    const size = Buffer.from(before?.data?.[CHECKPOINT_KEY] ?? "", "base64").length;
    const attempt = provisioner(w, { limitBytes: size + 500, padding: 4000 }).up(
      account,
      [stateDeployment("a"), stateDeployment("b"), stateDeployment("c")],
      stateCredentials,
    );
    await expect(attempt).rejects.toBeInstanceOf(StateTooLargeError);
    const error = (await attempt.catch((e: unknown) => e)) as StateTooLargeError;
    expect(error.limitBytes).toBe(size + 500);
    expect(error.bytes).toBeGreaterThan(error.limitBytes);
    expect(error.message).toMatch(/over the \d+-byte limit/);
    // What the Secret holds is whole: the last checkpoint that fitted (the mirror may have saved one taken
    // during the update), never a part of the one refused.
    const after = Buffer.from((await stateSecret(name))?.data?.[CHECKPOINT_KEY] ?? "", "base64");
    expect(after.length).toBeLessThanOrEqual(error.limitBytes);
    const kept = decodeCheckpoint(after).deployment as Deployment;
    expect(kept.resources?.some((r) => r.urn.endsWith("large-openai-a"))).toBe(true);
  });

  it("removes the state Secret after a successful destroy; a second destroy does nothing", async () => {
    const w = world("destroyed");
    const account = stateAccount("destroyed-openai", namespace);
    const p = provisioner(w);
    await p.up(account, [stateDeployment("a")], stateCredentials);
    expect(await stateSecret("destroyed-openai")).toBeDefined();
    await p.destroy(account, stateCredentials);
    expect(await stateSecret("destroyed-openai")).toBeUndefined();
    expect(existsSync(join(w, "cloud", "deployment-a"))).toBe(false);
    await p.destroy(account, stateCredentials);
  });
});

describe("the Pulumi passphrase Secret", () => {
  it("is made once with 32 random bytes, without owner, and never overwritten", async () => {
    const ns = await testCluster().createTestNamespace("passphrase");
    const ref = { namespace: ns, name: "modelkeys-pulumi", key: "passphrase" };
    const secrets = kubernetesPassphraseSecrets(testCluster().kubeConfig);
    const made = await ensurePassphrase(ref, secrets, { create: true });
    expect(Buffer.from(made, "base64")).toHaveLength(32);
    const again = await ensurePassphrase(ref, secrets, { create: true });
    expect(again).toBe(made);
    const stored = await testCluster().core.readNamespacedSecret({ namespace: ns, name: ref.name });
    expect(stored.metadata?.ownerReferences ?? []).toEqual([]);
    await expect(ensurePassphrase({ ...ref, key: "other" }, secrets, { create: true })).rejects.toThrow(
      new RegExp(`Secret ${ns}/modelkeys-pulumi has no key other`),
    );
  });

  it("is reported missing, by name, when the operator may not create it", async () => {
    const ns = await testCluster().createTestNamespace("passphrase-rbac");
    // An identity that may read Secrets there but not create them (the operator's own has the install's RBAC).
    const kubeconfig = await serviceAccountKubeconfig(ns, "reads-secrets");
    const { rbac } = testCluster();
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: "read-secrets" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: "read-secrets" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-secrets" },
        subjects: [{ kind: "ServiceAccount", name: "reads-secrets", namespace: ns }],
      },
    });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const ref = { namespace: ns, name: "modelkeys-pulumi", key: "passphrase" };
    const attempt = ensurePassphrase(ref, kubernetesPassphraseSecrets(kc), { create: true });
    await expect(attempt).rejects.toBeInstanceOf(PassphraseMissingError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `Pulumi passphrase Secret ${ns}/modelkeys-pulumi not found, and the operator may not create it`,
      ),
    );
  });
});
