// A cloud-free program for the kept-state tests: deployments as dynamic resources whose provider records
// each create in a ledger file and each existing resource in a "cloud" directory, one of them slow on
// demand, so a test can kill an update mid-create and count what was created.
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiAutomationOptions } from "../../operator/azure/automation.ts";
import type { ProgramFactory } from "../../operator/azure/inline-program.ts";
import type { PendingCreateId } from "../../operator/azure/pending-creates.ts";
import type {
  AccountSpec,
  DeploymentSpec,
  ServicePrincipalCredentials,
} from "../../operator/azure/provisioner.ts";
import { allowedIpRules } from "../../pulumi/network-rules.ts";

/** Where the stand-in provider keeps its world: `ledger` (one line per create) and `cloud/<id>` files. */
export interface StandInWorld {
  dir: string;
}

type Fs = typeof import("node:fs");
// The provider runs in the plugin process the CLI starts: it reaches node:fs without a require.
const fsOf = () => process.getBuiltinModule("node:fs") as Fs;

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const fs = fsOf();
    const id = `deployment-${inputs.name}`;
    // The "cloud" effect happens first, as with ARM: a kill during the wait leaves a resource that exists.
    fs.appendFileSync(`${inputs.world}/ledger`, `create ${inputs.name}\n`);
    fs.writeFileSync(`${inputs.world}/cloud/${id}`, "");
    if (inputs.slow) {
      // Held until the test releases it (or the process is killed).
      while (!fs.existsSync(`${inputs.world}/release`)) await new Promise((r) => setTimeout(r, 100));
    }
    return { id, outs: inputs };
  },
  async read(id, props) {
    const exists = fsOf().existsSync(`${props?.world}/cloud/${id}`);
    return exists ? { id, props } : { id: "", props: {} };
  },
  async diff(_id, olds, news) {
    const changed = ["model", "version", "capacity", "padding"].filter((k) => olds[k] !== news[k]);
    return { changes: changed.length > 0 };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete(id, props) {
    fsOf().rmSync(`${props.world}/cloud/${id}`, { force: true });
  },
};

class StandInDeployment extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  constructor(
    name: string,
    props: Record<string, pulumi.Input<unknown>>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(provider, name, { ...props, name: props.name }, opts);
  }
}

/**
 * The program: one stand-in deployment per deployment, created one after another; a deployment whose name
 * starts with "slow" waits in its create until the world's `release` file exists. `padding` bytes of
 * incompressible text per deployment make the state grow on demand.
 */
export function standInProgram(world: StandInWorld, padding = 0): ProgramFactory {
  return ({ account }) =>
    async () => {
      const component = new pulumi.ComponentResource("modelkeys:test:OpenAIAccount", account.accountName);
      const deployments: StandInDeployment[] = [];
      for (const d of account.deployments) {
        const previous = deployments.at(-1);
        deployments.push(
          new StandInDeployment(
            `${account.accountName}-${d.name}`,
            {
              name: d.name,
              model: d.model,
              version: d.version,
              capacity: d.sku.capacity,
              world: world.dir,
              slow: d.name.startsWith("slow"),
              padding: padding > 0 ? paddingFor(d.name, padding) : "",
            },
            { parent: component, dependsOn: previous ? [previous] : [] },
          ),
        );
      }
      return {
        endpoint: `https://${account.accountName.toLowerCase()}.openai.azure.com/`,
        accountName: account.accountName,
        deploymentNames: pulumi.all(deployments.map((d) => d.name)),
        allowedAddresses: allowedIpRules(account.networkRules.ipRules),
        primaryKey: pulumi.secret(`primary-key-of-${account.accountName}`),
        secondaryKey: pulumi.secret(`secondary-key-of-${account.accountName}`),
      };
    };
}

/** Deterministic text that gzip cannot shrink much (hex of a hash chain). */
function paddingFor(name: string, bytes: number): string {
  const { createHash } = process.getBuiltinModule("node:crypto") as typeof import("node:crypto");
  let out = "";
  let block = name;
  while (out.length < bytes) {
    block = createHash("sha256").update(block).digest("hex");
    out += block;
  }
  return out.slice(0, bytes);
}

/** Interrupted creates of the stand-in resources have a known id, as ARM resources with fixed names do. */
export const standInPendingCreateId: PendingCreateId = (resource) =>
  resource.type === "pulumi-nodejs:dynamic:Resource" && typeof resource.inputs?.name === "string"
    ? `deployment-${resource.inputs.name}`
    : undefined;

/** The creates the stand-in provider recorded, by deployment name. */
export function createsIn(ledger: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of ledger.split("\n").filter(Boolean)) {
    const name = line.replace(/^create /, "");
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

// Dynamic providers run through the SDK's pulumi-resource-pulumi-nodejs shim, found on PATH.
const sdkDir = dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));

/** The CLI's environment for dynamic providers: the shim on PATH, the SDK resolvable from a temp dir. */
export const dynamicProviderEnv: Record<string, string> = {
  PATH: `${sdkDir}${delimiter}${process.env.PATH ?? ""}`,
  NODE_PATH: dirname(dirname(sdkDir)),
};

/** The engine's options shared by the tests and the child process (CLI, home, work directory). */
export function engineOptions(
  base: string,
): Pick<PulumiAutomationOptions, "pulumiRoot" | "pulumiHome" | "workRoot" | "env" | "passphrase"> {
  const root = process.env.MODELKEYS_PULUMI_DIR;
  return {
    passphrase: "state-test-passphrase-7Hq2",
    ...(root ? { pulumiRoot: root } : {}),
    pulumiHome: join(base, "home"),
    workRoot: join(base, "work"),
    env: dynamicProviderEnv,
  };
}

export const stateCredentials: ServicePrincipalCredentials = {
  kind: "ServicePrincipal",
  clientId: "00000000-0000-0000-0000-0000000000c1",
  clientSecret: "sp-secret-Zq8vN3xw",
  tenantId: "00000000-0000-0000-0000-0000000000t1",
  subscriptionId: "00000000-0000-0000-0000-0000000000s1",
};

export function stateAccount(name: string, namespace: string): AccountSpec {
  return {
    accountName: name,
    namespace,
    resourceGroupName: "rg-state",
    location: "eastus",
    createResourceGroup: false,
    sku: "S0",
    publicNetworkAccess: "Enabled",
    networkRules: {
      defaultAction: "Deny",
      ipRules: [],
      virtualNetworkSubnetIds: [],
      allowPrivateRanges: false,
    },
  };
}

export function stateDeployment(name: string, capacity = 10): DeploymentSpec {
  return { name, model: "gpt-4o", version: "2024-11-20", sku: { name: "GlobalStandard", capacity } };
}
