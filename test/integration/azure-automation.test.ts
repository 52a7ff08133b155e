// The Azure provisioner against the real Pulumi engine (the CLI built by local/pulumi/build.sh) with a
// cloud-free inline program: stack lifecycle, outputs, no-op updates, destroy, redacted failures, updates of
// one stack serialized in call order and different stacks running side by side. Needs no Kubernetes.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccountKeyService } from "../../operator/azure/account-keys.ts";
import {
  PROJECT_NAME,
  type ProvisionEvent,
  type PulumiAutomationOptions,
  PulumiAutomationProvisioner,
} from "../../operator/azure/automation.ts";
import type { ProgramFactory } from "../../operator/azure/inline-program.ts";
import {
  type AccountSpec,
  type AzureCredentials,
  type DeploymentSpec,
  ProvisionError,
  ProvisionInputError,
} from "../../operator/azure/provisioner.ts";
import { stackNameFor } from "../../operator/azure/stack-name.ts";
import { allowedIpRules } from "../../pulumi/network-rules.ts";

/** The CLI: MODELKEYS_PULUMI_DIR (holding bin/pulumi, as local/pulumi/build.sh prints), else PATH. */
function findPulumiRoot(): { root?: string; found: boolean } {
  const dir = process.env.MODELKEYS_PULUMI_DIR;
  if (dir) return { root: dir, found: existsSync(join(dir, "bin", "pulumi")) };
  const onPath = (process.env.PATH ?? "").split(delimiter).some((p) => p && existsSync(join(p, "pulumi")));
  return { found: onPath };
}
const cli = findPulumiRoot();
if (!cli.found && process.env.CI === "true") {
  throw new Error(
    "the Pulumi CLI is required in CI: set MODELKEYS_PULUMI_DIR=$(bash local/pulumi/build.sh) or put pulumi on PATH",
  );
}
const engine = cli.found ? describe : describe.skip;
if (!cli.found) {
  console.warn(
    "azure-automation: skipped, no Pulumi CLI (run `bash local/pulumi/build.sh` and set MODELKEYS_PULUMI_DIR)",
  );
}

// Dynamic providers run through the SDK's pulumi-resource-pulumi-nodejs shim, found on PATH.
const sdkDir = dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));

/** A cloud-free stand-in for a deployment: a dynamic resource whose provider only echoes its inputs. */
const deploymentProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    // Runs in the plugin the CLI starts: shows which credentials a real provider would see.
    const env = process.env;
    const seen = { armClientId: env.ARM_CLIENT_ID, armSecretSet: Boolean(env.ARM_CLIENT_SECRET) };
    return { id: `deployment-${inputs.name}`, outs: { ...inputs, ...seen } };
  },
  async diff(_id, olds, news) {
    const changed = ["model", "version", "capacity"].filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0, replaces: changed.includes("model") ? ["model"] : [] };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
};

class FakeDeployment extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(deploymentProvider, name, { ...props, name: props.name }, opts);
  }
}

/** Per-program hooks the tests use to observe ordering: called when a program starts and ends. */
const programLog: string[] = [];
const hooks = new Map<string, () => Promise<void>>();

/** The same outputs as the real program, from a component and dynamic resources only. */
const cloudFreeProgram: ProgramFactory =
  ({ account, stack }) =>
  async () => {
    const tag = `${stack}:${account.deployments.map((d) => d.name).join("+")}`;
    programLog.push(`start ${tag}`);
    await hooks.get(stack)?.();
    const component = new pulumi.ComponentResource("modelkeys:test:OpenAIAccount", account.accountName);
    const deployments = account.deployments.map(
      (d) =>
        new FakeDeployment(
          `${account.accountName}-${d.name}`,
          { name: d.name, model: d.model, version: d.version, capacity: d.sku.capacity },
          { parent: component },
        ),
    );
    programLog.push(`end ${tag}`);
    return {
      endpoint: `https://${account.customSubDomainName ?? account.accountName.toLowerCase()}.openai.azure.com/`,
      accountName: account.accountName,
      deploymentNames: pulumi.all(deployments.map((d) => d.name)),
      allowedAddresses: allowedIpRules(account.networkRules.ipRules),
      primaryKey: pulumi.secret(`primary-key-of-${account.accountName}`),
      secondaryKey: pulumi.secret(`secondary-key-of-${account.accountName}`),
    };
  };

const credentials: AzureCredentials = {
  kind: "ServicePrincipal",
  clientId: "00000000-0000-0000-0000-0000000000c1",
  clientSecret: "sp-secret-Zq8vN3xw",
  tenantId: "00000000-0000-0000-0000-0000000000t1",
  subscriptionId: "00000000-0000-0000-0000-0000000000s1",
};
const PASSPHRASE = "test-passphrase-9f3k";

function account(name: string, extra: Partial<AccountSpec> = {}): AccountSpec {
  return {
    accountName: name,
    resourceGroupName: "rg-test",
    location: "eastus",
    createResourceGroup: false,
    sku: "S0",
    publicNetworkAccess: "Enabled",
    networkRules: {
      defaultAction: "Deny",
      ipRules: ["203.0.113.0/24"],
      virtualNetworkSubnetIds: [],
      allowPrivateRanges: false,
    },
    ...extra,
  };
}

function deployment(name: string, capacity = 10): DeploymentSpec {
  return { name, model: "gpt-4o", version: "2024-11-20", sku: { name: "GlobalStandard", capacity } };
}

let base: string;
let backendDir: string;
const events: ProvisionEvent[] = [];

function provisioner(overrides: Partial<PulumiAutomationOptions> = {}): PulumiAutomationProvisioner {
  return new PulumiAutomationProvisioner({
    backendUrl: pathToFileURL(backendDir).href,
    passphrase: PASSPHRASE,
    ...(cli.root ? { pulumiRoot: cli.root } : {}),
    pulumiHome: join(base, "home"),
    workRoot: join(base, "work"),
    program: cloudFreeProgram,
    // The shim resolves the SDK with require.resolve from a temporary directory: NODE_PATH points it home.
    env: { PATH: `${sdkDir}${delimiter}${process.env.PATH ?? ""}`, NODE_PATH: dirname(dirname(sdkDir)) },
    onEvent: (event) => events.push(event),
    ...overrides,
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function eventsOf(stack: string) {
  return events
    .filter(
      (e) =>
        e.stack === stack &&
        (e.event === "stack.operation.started" || e.event === "stack.operation.finished"),
    )
    .map((e) => `${e.event.replace("stack.operation.", "")} ${"operation" in e ? e.operation : ""}`);
}

engine("the Azure provisioner on the Pulumi engine", () => {
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), "modelkeys-automation-"));
    backendDir = join(base, "state");
    mkdirSync(join(base, "home"));
    mkdirSync(join(base, "work"));
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  describe("one account's stack", () => {
    const acme = account("acme-openai");
    const stack = stackNameFor(acme);
    const p = () => provisioner();

    it("creates the stack and returns endpoint, deployments, addresses and keys", async () => {
      const result = await p().up(acme, [deployment("gpt-4o")], credentials);
      expect(result).toEqual({
        stack,
        endpoint: "https://acme-openai.openai.azure.com/",
        accountName: "acme-openai",
        deploymentNames: ["gpt-4o"],
        allowedAddresses: ["3.219.3.197", "34.237.73.3", "44.216.17.242", "203.0.113.0/24"],
        primaryKey: "primary-key-of-acme-openai",
        secondaryKey: "secondary-key-of-acme-openai",
      });
      const created = events.findLast((e) => e.stack === stack && e.event === "stack.operation.finished");
      expect(created).toMatchObject({ result: "succeeded", changes: { create: 3 } });
    });

    it("keeps the state in the configured backend, keys encrypted, credentials only in the plugins' env", async () => {
      const files = filesUnder(backendDir);
      expect(files.some((f) => f.includes(stack))).toBe(true);
      const everything = files.map((f) => readFileSync(f, "utf8")).join("\n");
      expect(everything).toContain("primaryKey");
      // The provider plugin saw the service principal (recorded by the stand-in deployment's create).
      expect(everything).toMatch(new RegExp(`"armClientId":\\s*"${credentials.clientId}"`));
      expect(everything).toMatch(/"armSecretSet":\s*true/);
      for (const secret of ["primary-key-of-acme-openai", credentials.clientSecret, PASSPHRASE]) {
        expect(everything).not.toContain(secret);
      }
      expect(readdirSync(join(base, "work"))).toEqual([]);
    });

    it("changes nothing when updated again with the same spec", async () => {
      await p().up(acme, [deployment("gpt-4o")], credentials);
      const last = events.findLast((e) => e.stack === stack && e.event === "stack.operation.finished");
      expect(last).toMatchObject({ result: "succeeded", changes: { same: 3 } });
      expect(Object.keys((last as { changes: object }).changes)).toEqual(["same"]);
    });

    it("adds a deployment and updates a changed one, touching nothing else", async () => {
      const result = await p().up(acme, [deployment("gpt-4o", 20), deployment("gpt-4o-mini")], credentials);
      expect(result.deploymentNames).toEqual(["gpt-4o", "gpt-4o-mini"]);
      const last = events.findLast((e) => e.stack === stack && e.event === "stack.operation.finished");
      expect(last).toMatchObject({ changes: { create: 1, update: 1, same: 2 } });
    });

    it("refuses to touch the stack with another passphrase, and says so without the passphrase", async () => {
      const attempt = provisioner({ passphrase: "not-the-passphrase" }).up(
        acme,
        [deployment("gpt-4o")],
        credentials,
      );
      await expect(attempt).rejects.toThrow(/failed to decrypt: incorrect passphrase/);
      await expect(attempt).rejects.not.toThrow(/not-the-passphrase/);
    });

    it("refuses an invalid spec before running the engine, naming the fields", async () => {
      const before = events.length;
      const attempt = p().up(
        account("acme-openai", {
          networkRules: {
            defaultAction: "Deny",
            ipRules: ["1.2.3.4/40"],
            virtualNetworkSubnetIds: [],
            allowPrivateRanges: false,
          },
        }),
        [],
        credentials,
      );
      await expect(attempt).rejects.toBeInstanceOf(ProvisionInputError);
      await expect(attempt).rejects.toThrow(/networkRules.ipRules\[0\].*invalid prefix length/);
      expect(events.length).toBe(before);
    });

    it("destroys the account's resources and removes the stack; a second destroy does nothing", async () => {
      await p().destroy(acme, credentials);
      const last = events.findLast((e) => e.stack === stack && e.event === "stack.operation.finished");
      expect(last).toMatchObject({ operation: "destroy", result: "succeeded", changes: { delete: 4 } });
      const workspace = await LocalWorkspace.create({
        workDir: mkdtempSync(join(base, "inspect-")),
        projectSettings: { name: PROJECT_NAME, runtime: "nodejs" },
        envVars: { PULUMI_BACKEND_URL: pathToFileURL(backendDir).href, PULUMI_HOME: join(base, "home") },
        ...(cli.root
          ? {
              pulumiCommand: await PulumiCommand.get({ root: cli.root }),
            }
          : {}),
      });
      expect((await workspace.listStacks()).map((s) => s.name)).not.toContain(stack);
      await p().destroy(acme, credentials);
      const again = events.findLast((e) => e.stack === stack && e.event === "stack.operation.finished");
      expect(again).toMatchObject({ operation: "destroy", result: "succeeded" });
      expect(again).not.toHaveProperty("changes");
    });
  });

  it("runs concurrent updates of one stack one after another, in call order", async () => {
    const shared = account("shared-openai");
    const stack = stackNameFor(shared);
    const p = provisioner();
    const first = p.up(shared, [deployment("a")], credentials);
    const second = p.up(shared, [deployment("a"), deployment("b")], credentials);
    const third = p.up(shared, [deployment("b")], credentials);
    const results = await Promise.all([first, second, third]);
    expect(results.map((r) => r.deploymentNames)).toEqual([["a"], ["a", "b"], ["b"]]);
    // Each program ran whole before the next began, in call order.
    expect(programLog.filter((line) => line.includes(stack))).toEqual([
      `start ${stack}:a`,
      `end ${stack}:a`,
      `start ${stack}:a+b`,
      `end ${stack}:a+b`,
      `start ${stack}:b`,
      `end ${stack}:b`,
    ]);
    expect(eventsOf(stack)).toEqual([
      "started up",
      "finished up",
      "started up",
      "finished up",
      "started up",
      "finished up",
    ]);
    // Each update started from the state the previous one left: b is created once, a deleted once.
    const changes = events
      .filter((e) => e.stack === stack && e.event === "stack.operation.finished")
      .map((e) => (e as { changes?: Record<string, number> }).changes);
    expect(changes).toEqual([{ create: 3 }, { create: 1, same: 3 }, { delete: 1, same: 3 }]);
    await p.destroy(shared, credentials);
  });

  it("runs updates of different stacks at the same time", async () => {
    const one = account("one-openai");
    const two = account("two-openai");
    // Each program waits until both have started: serialised stacks would never get there.
    let release: () => void = () => {};
    const bothStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const rendezvous = async () => {
      started += 1;
      if (started === 2) release();
      const deadline = new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error("the other stack's update never started alongside")),
          60_000,
        ).unref(),
      );
      await Promise.race([bothStarted, deadline]);
    };
    hooks.set(stackNameFor(one), rendezvous);
    hooks.set(stackNameFor(two), rendezvous);
    const p = provisioner();
    try {
      const [a, b] = await Promise.all([
        p.up(one, [deployment("x")], credentials),
        p.up(two, [deployment("y")], credentials),
      ]);
      expect([a.accountName, b.accountName]).toEqual(["one-openai", "two-openai"]);
    } finally {
      hooks.clear();
    }
    await Promise.all([p.destroy(one, credentials), p.destroy(two, credentials)]);
  });

  it("queues a key regeneration behind the stack's running update", async () => {
    const rotating = account("rotating-openai");
    const stack = stackNameFor(rotating);
    const regenerated: string[] = [];
    const keys: AccountKeyService = {
      async regenerate(_account, key) {
        regenerated.push(key);
        programLog.push(`regenerate ${stack}:${key}`);
        return { primaryKey: "new-primary", secondaryKey: "new-secondary" };
      },
    };
    const p = provisioner({ keys });
    const up = p.up(rotating, [deployment("r")], credentials);
    const rotated = p.regenerateKey(rotating, "key2", credentials);
    await expect(rotated).resolves.toEqual({ primaryKey: "new-primary", secondaryKey: "new-secondary" });
    await up;
    expect(programLog.filter((line) => line.includes(stack))).toEqual([
      `start ${stack}:r`,
      `end ${stack}:r`,
      `regenerate ${stack}:key2`,
    ]);
    expect(eventsOf(stack)).toEqual([
      "started up",
      "finished up",
      "started regenerateKey",
      "finished regenerateKey",
    ]);
    await p.destroy(rotating, credentials);
  });

  it("recovers a stack locked by a dead process of this host, and respects another host's lock", async () => {
    const crashed = account("crashed-openai");
    const stack = stackNameFor(crashed);
    const p = provisioner();
    await p.up(crashed, [deployment("c")], credentials);
    const lockDir = join(backendDir, ".pulumi", "locks", "organization", PROJECT_NAME, stack);
    mkdirSync(lockDir, { recursive: true });
    // A process that has exited: its pid names no running process.
    const deadPid = Number(
      execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]),
    );
    const lock = (host: string, pid: number) =>
      JSON.stringify({ pid, username: "root", hostname: host, timestamp: "2026-01-01T00:00:00Z" });
    writeFileSync(join(lockDir, "crashed.json"), lock(hostname(), deadPid));
    await p.up(crashed, [deployment("c")], credentials);
    expect(events.filter((e) => e.stack === stack && e.event === "stack.lock.broken")).toEqual([
      {
        event: "stack.lock.broken",
        stack,
        pid: deadPid,
        hostname: hostname(),
        timestamp: "2026-01-01T00:00:00Z",
      },
    ]);
    writeFileSync(join(lockDir, "elsewhere.json"), lock("another-host", deadPid));
    await expect(p.up(crashed, [deployment("c")], credentials)).rejects.toThrow(
      /the stack is currently locked/,
    );
    rmSync(join(lockDir, "elsewhere.json"));
    await p.destroy(crashed, credentials);
  });

  it("fails an update with a redacted message and leaves the stack usable", async () => {
    const broken = account("broken-openai");
    const leaky: ProgramFactory = () => async () => {
      throw new Error(`cannot reach Azure with client secret ${credentials.clientSecret} and ${PASSPHRASE}`);
    };
    const attempt = provisioner({ program: leaky }).up(broken, [deployment("z")], credentials);
    await expect(attempt).rejects.toBeInstanceOf(ProvisionError);
    const error = (await attempt.catch((e: unknown) => e)) as ProvisionError;
    expect(error.message).toMatch(/^up of stack rg-test\.broken-openai-[0-9a-f]{8} failed: /);
    expect(error.message).toContain("cannot reach Azure");
    expect(error.message).not.toContain(credentials.clientSecret);
    expect(error.message).not.toContain(PASSPHRASE);
    expect(error.stackName).toBe(stackNameFor(broken));
    const result = await provisioner().up(broken, [deployment("z")], credentials);
    expect(result.deploymentNames).toEqual(["z"]);
    await provisioner().destroy(broken, credentials);
  });
});

// The CLI's version must parse, or the Automation API refuses it (the build stamps it with -ldflags).
engine("the Pulumi CLI", () => {
  it("reports the pinned version", () => {
    const bin = cli.root ? join(cli.root, "bin", "pulumi") : "pulumi";
    const version = execFileSync(bin, ["version"], { encoding: "utf8" }).trim();
    const pinned = readFileSync(new URL("../../local/pulumi/go.mod", import.meta.url), "utf8").match(
      /github\.com\/pulumi\/pulumi\/pkg\/v3 (v\S+)/,
    )?.[1];
    expect(version).toBe(pinned);
  });
});
