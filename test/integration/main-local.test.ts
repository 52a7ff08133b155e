// README's main command as a user runs it: the operator process with no cluster configured brings up the
// embedded local environment, syncs every example into the app stand-in, prints the kubectl line, and stops
// cleanly on SIGTERM. Also: a bad flag exits with code 2 naming it.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { PROVIDER_CONNECTION_COLUMNS } from "../../crds/crd.ts";
import type { ProviderConnection } from "../../crds/index.ts";
import { STAND_IN_NOTICE } from "../../local/app/server.ts";
import { resolveBinaries } from "../../local/controlplane/binaries.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { runKubectl } from "../../local/controlplane/kubectl.ts";
import { SANDBOX_APP_PORT, STATE_DIR_ENV } from "../../local/sandbox.ts";
import { exampleCredentials, exampleFiles } from "../../local/sandbox-examples.ts";
import { waitFor } from "../support/wait.ts";

const EXAMPLES = join(REPO_ROOT, "examples");

/** The operator process, its output collected as it comes. */
interface Job {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number's stand-in, -1 for a signal). */
  exited: Promise<number>;
}

function startMain(args: string[], env: NodeJS.ProcessEnv): Job {
  const child = spawn(process.execPath, ["--import", "tsx", "operator/main.ts", ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code) => resolve(code ?? -1));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The environment of a machine with no cluster: no kubeconfig anywhere, not in a pod, no operator settings. */
function noClusterEnv(home: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const dropped =
      ["KUBECONFIG", "TEST_KUBECONFIG", "KUBERNETES_SERVICE_HOST", "POD_NAME", "POD_NAMESPACE"].includes(
        key,
      ) ||
      (key.startsWith("MODELKEYS_") && key !== "MODELKEYS_CACHE");
    if (!dropped) env[key] = value;
  }
  return { ...env, HOME: home, ...extra };
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The ProviderConnections in examples/, as written. */
async function exampleConnections(): Promise<ProviderConnection[]> {
  const found: ProviderConnection[] = [];
  for (const file of await exampleFiles(EXAMPLES)) {
    for (const document of parseAllDocuments(await readFile(file, "utf8"))) {
      const object = document.toJS() as ProviderConnection | null;
      if (object?.kind === "ProviderConnection") found.push(object);
    }
  }
  return found;
}

const ready = (c: ProviderConnection) => c.status?.conditions?.find((x) => x.type === "Ready");

describe("the main job without a cluster", () => {
  let home: string;
  let stateDir: string;
  let job: Job | undefined;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "modelkeys-home-"));
    stateDir = await mkdtemp(join(tmpdir(), "modelkeys-state-"));
  });

  afterAll(async () => {
    // A failed test must not leave the operator behind (its control plane dies with it: PDEATHSIG).
    if (job && job.child.exitCode === null && job.child.signalCode === null) {
      job.child.kill("SIGKILL");
      await job.exited;
    }
    await rm(home, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it("brings up the local environment, syncs every example, and stops on SIGTERM with 0", async () => {
    if (!(await portFree(SANDBOX_APP_PORT))) {
      throw new Error(
        `127.0.0.1:${SANDBOX_APP_PORT} is taken (a running \`npm start\`?); the sandbox must listen there`,
      );
    }
    const binaries = await resolveBinaries();
    const started = Date.now();
    const running = startMain(
      ["--metrics-port=0", "--health-port=0"],
      noClusterEnv(home, { [STATE_DIR_ENV]: stateDir, KUBEBUILDER_ASSETS: binaries.dir }),
    );
    job = running;

    // The line README promises, with the kubeconfig to look with.
    const hint = await waitFor(
      () => {
        if (running.child.exitCode !== null)
          throw new Error(`exited early with ${running.child.exitCode}: ${running.stderr()}`);
        return /look with:\s+kubectl --kubeconfig (\S+) get pconn -A/.exec(running.stdout());
      },
      { timeoutMs: 180_000, intervalMs: 250, description: "the kubectl hint on stdout" },
    );
    console.log(`[main-local] hint printed after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const kubeconfig = resolve(REPO_ROOT, hint[1] as string);
    expect(kubeconfig).toBe(join(stateDir, "kubeconfig"));
    expect(running.stdout()).toContain(STAND_IN_NOTICE);

    const kubectl = async (args: string[]) => {
      const result = await runKubectl(binaries.kubectl, args, { kubeconfig });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };

    // The main job is all green: every example applied locally becomes Ready, served by the stand-ins (a
    // Vertex AI key generated at start that really signs, a local OpenAI-format server for Custom); the
    // provisioned Azure one is not applied, and one log line says why.
    const all = await exampleConnections();
    const provisioned = (c: ProviderConnection) => Boolean(c.spec.azure?.provision);
    const expected = all.filter((c) => !provisioned(c));
    expect(expected.length).toBeLessThan(all.length);
    const settled = await waitFor(
      async () => {
        const list = JSON.parse(await kubectl(["get", "pconn", "-A", "-o", "json"])) as {
          items: ProviderConnection[];
        };
        const waiting = expected.flatMap((e) => {
          const got = list.items.find(
            (c) => c.metadata.name === e.metadata.name && c.metadata.namespace === e.metadata.namespace,
          );
          const verdict = got && ready(got);
          return verdict?.status === "True"
            ? []
            : [`${e.metadata.name}: ${verdict?.reason} ${verdict?.message}`];
        });
        // Thrown, so that a timeout names what is not Ready and why (reasons and messages carry no secrets).
        if (waiting.length > 0) throw new Error(`not Ready: ${waiting.join("; ")}`);
        return list.items;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: "Ready=True on every applied example connection" },
    );
    expect(settled.map((c) => c.metadata.name).sort()).toEqual(expected.map((c) => c.metadata.name).sort());
    for (const c of settled) expect(c.status?.appConnectionId, c.metadata.name).toBeGreaterThan(0);
    const skippedLines = running
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"event":"local.example.skipped"'));
    // One line per file left out: the provisioned connection's and the AzureOpenAIAccount's.
    expect(skippedLines).toHaveLength(2);
    expect(skippedLines.some((line) => line.includes("azure-openai-provisioned.yaml"))).toBe(true);
    expect(skippedLines.some((line) => line.includes("azure-openai-account.yaml"))).toBe(true);
    for (const line of skippedLines) expect(line).toContain("Azure subscription");

    // The app stand-in holds exactly the records status points at.
    const { appToken } = await exampleCredentials(EXAMPLES);
    const answer = await fetch(`http://127.0.0.1:${SANDBOX_APP_PORT}/api/model-provider-connections/`, {
      headers: { authorization: `Token ${appToken}` },
    });
    expect(answer.status).toBe(200);
    const records = (await answer.json()) as { id: number }[];
    const ids = settled.flatMap((c) =>
      c.status?.appConnectionId === undefined ? [] : [c.status.appConnectionId],
    );
    expect(records.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(ids).toHaveLength(expected.length);

    // What README's command shows: the printer columns and one row per example.
    const table = await kubectl(["get", "pconn", "-A"]);
    const [header, ...rows] = table.trim().split("\n");
    const columns = PROVIDER_CONNECTION_COLUMNS.filter((c) => !c.priority).map((c) => c.name.toUpperCase());
    expect(header?.trim().split(/\s+/)).toEqual(["NAMESPACE", "NAME", ...columns]);
    expect(rows).toHaveLength(expected.length);

    // SIGTERM: the controller drains, the Lease is released, the sandbox and the control plane stop.
    running.child.kill("SIGTERM");
    const code = await Promise.race([
      running.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running after 60 s"), 60_000)),
    ]);
    expect(code).toBe(0);
    const events = running
      .stdout()
      .split("\n")
      .flatMap((line) => {
        try {
          return [(JSON.parse(line) as { event?: string }).event];
        } catch {
          return [];
        }
      });
    for (const event of ["controller.stopped", "leader.released", "appsandbox.stopped", "operator.stopped"])
      expect(events, event).toContain(event);
    expect(existsSync(kubeconfig), "the control plane removes its kubeconfig").toBe(false);
    expect(await portFree(SANDBOX_APP_PORT)).toBe(true);

    // The examples' placeholder credentials stand in for secrets: none may show in the output.
    const credentials = await exampleCredentials(EXAMPLES);
    const values = [
      credentials.appToken,
      ...credentials.openAIKeys,
      ...credentials.geminiKeys,
      ...credentials.anthropicKeys,
      ...credentials.azureKeys,
    ];
    for (const value of values) {
      expect(running.stdout()).not.toContain(value);
      expect(running.stderr()).not.toContain(value);
    }
  }, 300_000);

  it("exits with code 2 naming a bad flag", async () => {
    const bad = startMain(["--concurrency=0"], noClusterEnv(home, { [STATE_DIR_ENV]: stateDir }));
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain("--concurrency");
    // It stopped before starting anything.
    expect(bad.stdout()).not.toContain("local.starting");
  }, 60_000);
});
