// The pure parts of kept Pulumi state: names of the Secret and Lease, the gzip codec and its size limit,
// interrupted creates settled, the passphrase made once, and the mirror of a file backend's checkpoint.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pulumiEngine } from "../../operator/accounts/engine.ts";
import { PulumiAutomationProvisioner } from "../../operator/azure/automation.ts";
import { mirrorCheckpoint, readCheckpoint } from "../../operator/azure/checkpoint-mirror.ts";
import {
  ensurePassphrase,
  PassphraseMissingError,
  type PassphraseSecrets,
} from "../../operator/azure/passphrase.ts";
import { armPendingCreateIds, settlePendingCreates } from "../../operator/azure/pending-creates.ts";
import {
  type Checkpoint,
  type StackStateStore,
  StateTooLargeError,
} from "../../operator/azure/state-store.ts";
import { TerminalError } from "../../operator/error-policy.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  SECRET_DATA_LIMIT,
  stateObjectName,
} from "../../operator/pulumi-state/index.ts";

describe("stateObjectName", () => {
  it.each([
    ["rg-test.acme-openai-1a2b3c4d", "pulumi-state-rg-test-acme-openai-1a2b3c4d"],
    ["rg_1.acct_2-0f0f0f0f", "pulumi-state-rg-1-acct-2-0f0f0f0f"],
  ])("names stack %s %s", (stack, name) => {
    expect(stateObjectName(stack)).toBe(name);
  });

  it("stays within 253 characters and distinct for long stacks", () => {
    const a = stateObjectName(`${"x".repeat(300)}-a`);
    const b = stateObjectName(`${"x".repeat(300)}-b`);
    expect(a.length).toBeLessThanOrEqual(253);
    expect(a).toMatch(/^[a-z0-9-]+$/);
    expect(a).not.toBe(b);
  });
});

describe("the checkpoint codec", () => {
  const checkpoint: Checkpoint = { version: 3, deployment: { resources: [{ urn: "u", type: "t" }] } };

  it("round-trips a checkpoint through gzip", () => {
    const bytes = encodeCheckpoint("s", checkpoint, SECRET_DATA_LIMIT);
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(decodeCheckpoint(bytes)).toEqual(checkpoint);
  });

  it("refuses a checkpoint over the limit with its size and the limit", () => {
    const size = encodeCheckpoint("s", checkpoint, SECRET_DATA_LIMIT).length;
    expect(() => encodeCheckpoint("stack-1", checkpoint, size - 1)).toThrow(StateTooLargeError);
    try {
      encodeCheckpoint("stack-1", checkpoint, size - 1);
    } catch (error) {
      expect(error).toMatchObject({ stackName: "stack-1", bytes: size, limitBytes: size - 1 });
      expect((error as Error).message).toContain(
        `is ${size} bytes compressed, over the ${size - 1}-byte limit`,
      );
    }
  });

  it("refuses stored data that is not an exported deployment", () => {
    const bytes = encodeCheckpoint("s", { version: 3 } as Checkpoint, SECRET_DATA_LIMIT);
    expect(() => decodeCheckpoint(bytes)).toThrow(/not an exported deployment/);
  });
});

describe("settlePendingCreates", () => {
  const resource = (name: string, extra: Record<string, unknown> = {}) => ({
    urn: `urn:pulumi:s::p::t::${name}`,
    type: "azure-native:cognitiveservices:Deployment",
    custom: true,
    inputs: { resourceGroupName: "rg", accountName: "acct", deploymentName: name },
    ...extra,
  });
  const idOf = armPendingCreateIds("sub-1");

  it("adopts creates whose id is known, clears the others, keeps other pending operations", () => {
    const deployment = {
      manifest: {},
      resources: [resource("done", { id: "x" })],
      pending_operations: [
        { type: "creating", resource: resource("gpt-4o") },
        { type: "creating", resource: { urn: "urn:other", type: "random:index:RandomId", inputs: {} } },
        { type: "updating", resource: resource("done", { id: "x" }) },
      ],
    };
    const settled = settlePendingCreates(deployment, idOf);
    expect(settled.adopted).toEqual(["urn:pulumi:s::p::t::gpt-4o"]);
    expect(settled.cleared).toEqual(["urn:other"]);
    const d = settled.deployment as {
      manifest: object;
      resources: { urn: string; id?: string }[];
      pending_operations: { type: string }[];
    };
    expect(d.resources.map((r) => [r.urn, r.id])).toEqual([
      ["urn:pulumi:s::p::t::done", "x"],
      [
        "urn:pulumi:s::p::t::gpt-4o",
        "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct/deployments/gpt-4o",
      ],
    ]);
    expect(d.pending_operations.map((op) => op.type)).toEqual(["updating"]);
    expect(d.manifest).toEqual({});
  });

  it("leaves a deployment without pending creates as it is", () => {
    const deployment = { resources: [], pending_operations: [{ type: "deleting", resource: resource("a") }] };
    expect(settlePendingCreates(deployment, idOf)).toEqual({ deployment, adopted: [], cleared: [] });
  });

  it.each([
    [
      "azure-native:resources:ResourceGroup",
      { resourceGroupName: "rg" },
      "/subscriptions/sub-1/resourceGroups/rg",
    ],
    [
      "azure-native:cognitiveservices:Account",
      { resourceGroupName: "rg", accountName: "acct" },
      "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct",
    ],
    ["azure-native:cognitiveservices:Account", { resourceGroupName: "rg" }, undefined],
    [
      "azure-native:cognitiveservices:Deployment",
      { resourceGroupName: "rg", accountName: "acct" },
      undefined,
    ],
    ["random:index:RandomId", { resourceGroupName: "rg" }, undefined],
  ])("gives %s with %j the ARM id %s", (type, inputs, id) => {
    expect(idOf({ urn: "u", type, inputs })).toBe(id);
  });
});

describe("ensurePassphrase", () => {
  const ref = { namespace: "modelkeys-system", name: "modelkeys-pulumi", key: "passphrase" };
  function secrets(initial?: Record<string, string>, answer?: "exists" | "forbidden") {
    let stored = initial;
    const created: Record<string, string>[] = [];
    const port: PassphraseSecrets = {
      read: async () => stored,
      create: async (_ns, _name, data) => {
        if (answer === "exists") {
          stored = { passphrase: "made-by-the-other-replica" };
          return "exists";
        }
        if (answer === "forbidden") return "forbidden";
        created.push(data);
        stored = data;
        return "created";
      },
    };
    return { port, created };
  }

  it("returns the stored passphrase and writes nothing", async () => {
    const { port, created } = secrets({ passphrase: "stored" });
    await expect(ensurePassphrase(ref, port, { create: true })).resolves.toBe("stored");
    expect(created).toEqual([]);
  });

  it("makes a Secret of 32 random bytes when it does not exist", async () => {
    const { port, created } = secrets();
    const random = () => Buffer.alloc(32, 7);
    const value = await ensurePassphrase(ref, port, { create: true, random });
    expect(value).toBe(Buffer.alloc(32, 7).toString("base64"));
    expect(created).toEqual([{ passphrase: value }]);
  });

  it("returns the other replica's passphrase when it created the Secret first", async () => {
    const { port } = secrets(undefined, "exists");
    await expect(ensurePassphrase(ref, port, { create: true })).resolves.toBe("made-by-the-other-replica");
  });

  it.each([
    [undefined, undefined, false, "not found: create it"],
    [undefined, "forbidden" as const, true, "not found, and the operator may not create it"],
    [{ other: "x" }, undefined, true, "has no key passphrase"],
  ])("with %j (%s, create %s) says: %s", async (initial, answer, create, reason) => {
    const { port, created } = secrets(initial, answer);
    const attempt = ensurePassphrase(ref, port, { create });
    await expect(attempt).rejects.toBeInstanceOf(PassphraseMissingError);
    await expect(attempt).rejects.toThrow(
      `Pulumi passphrase Secret modelkeys-system/modelkeys-pulumi ${reason}`,
    );
    expect(created).toEqual([]);
  });
});

describe("the checkpoint mirror", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("saves each new version of the stack's file, and the last one on stop", async () => {
    dir = mkdtempSync(join(tmpdir(), "modelkeys-mirror-"));
    const stacks = join(dir, ".pulumi", "stacks", "proj");
    mkdirSync(stacks, { recursive: true });
    const file = join(stacks, "s.json");
    const write = (n: number) =>
      writeFileSync(file, JSON.stringify({ version: 3, checkpoint: { stack: "s", latest: { n } } }));
    const saved: unknown[] = [];
    let resolveSaved: () => void = () => {};
    const mirror = mirrorCheckpoint({
      backendDir: dir,
      project: "proj",
      stack: "s",
      intervalMs: 10,
      save: async (c) => {
        saved.push(c.deployment);
        resolveSaved();
      },
    });
    await new Promise<void>((resolve) => {
      resolveSaved = resolve;
      write(1);
    });
    write(2);
    await mirror.stop();
    expect(saved.at(0)).toEqual({ n: 1 });
    expect(saved.at(-1)).toEqual({ n: 2 });
    expect(await readCheckpoint(dir, "proj", "s")).toEqual({ version: 3, deployment: { n: 2 } });
  });

  it("skips a stack file without a deployment yet", async () => {
    dir = mkdtempSync(join(tmpdir(), "modelkeys-mirror-"));
    mkdirSync(join(dir, ".pulumi", "stacks"), { recursive: true });
    writeFileSync(
      join(dir, ".pulumi", "stacks", "s.json"),
      JSON.stringify({ version: 3, checkpoint: { stack: "s" } }),
    );
    const saved: unknown[] = [];
    const mirror = mirrorCheckpoint({
      backendDir: dir,
      project: "proj",
      stack: "s",
      intervalMs: 10,
      save: async (c) => void saved.push(c),
    });
    await mirror.stop();
    expect(saved).toEqual([]);
    expect(await readCheckpoint(dir, "proj", "s")).toBeUndefined();
  });
});

describe("pulumiEngine's state and passphrase", () => {
  const ref = { namespace: "ops", name: "pp", key: "passphrase" };
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const cliEnv = () => {
    // A directory that holds bin/pulumi (never run here: the provisioner is only built).
    const d = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
    dirs.push(d);
    mkdirSync(join(d, "bin"));
    writeFileSync(join(d, "bin", "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    return { MODELKEYS_PULUMI_DIR: d };
  };
  const unusedStore: StackStateStore = {
    lock: async () => {
      throw new Error("not used: the provisioner is only built");
    },
  };

  it("without a backend URL and without a store is a terminal error saying what to set", async () => {
    const attempt = pulumiEngine({
      config: { pulumiBackendUrl: undefined, pulumiPassphraseSecret: ref },
      readSecret: async () => ({ passphrase: "x" }),
      env: cliEnv(),
    })();
    await expect(attempt).rejects.toBeInstanceOf(TerminalError);
    await expect(attempt).rejects.toThrow(/no Pulumi state backend: set PULUMI_BACKEND_URL/);
  });

  it("keeping state in Kubernetes, creates an absent passphrase Secret once and builds the provisioner", async () => {
    const created: string[] = [];
    let stored: Record<string, string> | undefined;
    const get = pulumiEngine({
      config: { pulumiBackendUrl: undefined, pulumiPassphraseSecret: ref },
      readSecret: async () => stored,
      createSecret: async (namespace, name, data) => {
        created.push(`${namespace}/${name}`);
        stored = data;
        return "created";
      },
      stateStore: unusedStore,
      env: cliEnv(),
    });
    const provisioner = await get();
    expect(provisioner).toBeInstanceOf(PulumiAutomationProvisioner);
    expect(await get()).toBe(provisioner);
    expect(created).toEqual(["ops/pp"]);
  });

  it.each([
    ["state in Kubernetes, create forbidden", undefined, "not found, and the operator may not create it"],
    ["a backend URL (never creates)", "s3://bucket", "not found: create it"],
  ])("with %s, reports the missing Secret by name", async (_label, backend, reason) => {
    const attempt = pulumiEngine({
      config: { pulumiBackendUrl: backend, pulumiPassphraseSecret: ref },
      readSecret: async () => undefined,
      createSecret: async () => "forbidden",
      stateStore: unusedStore,
      env: cliEnv(),
    })();
    await expect(attempt).rejects.toBeInstanceOf(PassphraseMissingError);
    await expect(attempt).rejects.toThrow(`Pulumi passphrase Secret ops/pp ${reason}`);
  });
});
