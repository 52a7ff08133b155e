// Teardown in any order, as a GitOps prune does it: one `kubectl delete -f` of a file holding the token Secret, the
// API-key Secret, the Organization and its connections removes the app's records, with nothing left stuck, whichever
// comes first. The Organization waits for its connections and keeps its token Secret until they are done.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { API_VERSION } from "../../crds/index.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { type AppWithOwner, startAppWithOwner, waitForCondition } from "../support/world.ts";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;
const files = mkdtempSync(join(tmpdir(), "modelkeys-teardown-"));

/** One Organization's whole world as a user keeps it in Git: Secrets, the Organization, two connections. */
function manifests(prefix: string) {
  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    stringData: data,
  });
  const connection = (name: string) => ({
    apiVersion: API_VERSION,
    kind: "ProviderConnection",
    metadata: { name, namespace },
    spec: {
      organizationRef: { name: `${prefix}-org` },
      provider: "Custom",
      custom: {
        name,
        endpoint: "http://models.internal/v1",
        apiKeySecretRef: { name: `${prefix}-key`, key: "api-key" },
      },
    },
  });
  return {
    secrets: [secret(`${prefix}-token`, { token: world.token }), secret(`${prefix}-key`, { "api-key": "k" })],
    organization: {
      apiVersion: API_VERSION,
      kind: "Organization",
      metadata: { name: `${prefix}-org`, namespace },
      spec: { url: world.app.url, tokenSecretRef: { name: `${prefix}-token`, key: "token" } },
    },
    connections: [connection(`${prefix}-one`), connection(`${prefix}-two`)],
  };
}

const kubectl = async (args: string[]) => {
  const result = await testCluster().kubectl(args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
};

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("teardown");
  world = await startAppWithOwner();
  operator = await startTestOperator({ namespace, checkModels: answersValid("m") });
});

afterAll(async () => {
  await operator?.stop();
  await world?.app.stop();
});

type World = ReturnType<typeof manifests>;
describe.each<[string, (w: World) => unknown[]]>([
  ["connections first", (w) => [...w.connections, w.organization, ...w.secrets]],
  ["Organization first", (w) => [w.organization, ...w.secrets, ...w.connections]],
  ["Secrets first, then the rest", (w) => [...w.secrets, w.organization, ...w.connections]],
])("kubectl delete -f, %s", (order, arrange) => {
  it("removes every object and the app's records within 30 s, with no manual step", async () => {
    const prefix = order.split(" ")[0]?.toLowerCase() ?? "x";
    const w = manifests(prefix);
    const file = join(files, `${prefix}.yaml`);
    writeFileSync(
      file,
      arrange(w)
        .map((o) => stringify(o))
        .join("---\n"),
    );
    await kubectl(["apply", "-f", file]);
    const ids: number[] = [];
    for (const c of w.connections) {
      const ready = await waitForCondition(namespace, c.metadata.name, "Ready", "True");
      ids.push(ready.status?.appConnectionId as number);
    }
    for (const id of ids) expect(world.app.state.getConnection(id)).toBeDefined();
    // What makes any order safe: the Organization and its token Secret are held for the connections.
    const held = JSON.parse(await kubectl(["get", "-f", file, "-o", "json"])) as {
      items: { kind: string; metadata: { name: string; finalizers?: string[] } }[];
    };
    const finalizersOf = (name: string) =>
      held.items.find((o) => o.metadata.name === name)?.metadata.finalizers;
    expect(finalizersOf(w.organization.metadata.name)).toContain("modelkeys.dev/connections");
    expect(finalizersOf(`${prefix}-token`)).toContain("modelkeys.dev/organization-token");

    // kubectl deletes in file order, then waits (up to the timeout) until every object, finalizers done, is gone.
    await kubectl(["delete", "-f", file, "--timeout=30s"]);
    for (const id of ids) expect(world.app.state.getConnection(id)).toBeUndefined();
    const left = await kubectl(["get", "-f", file, "--ignore-not-found", "-o", "name"]);
    expect(left.trim()).toBe("");
  });
});

describe("all at once", () => {
  it("deleting every object in one go (as a prune does) leaves nothing and cleans the app within 30 s", async () => {
    const w = manifests("once");
    const file = join(files, "once.yaml");
    writeFileSync(
      file,
      [...w.secrets, w.organization, ...w.connections].map((o) => stringify(o)).join("---\n"),
    );
    await kubectl(["apply", "-f", file]);
    const ids: number[] = [];
    for (const c of w.connections) {
      ids.push(
        (await waitForCondition(namespace, c.metadata.name, "Ready", "True")).status
          ?.appConnectionId as number,
      );
    }
    // Every delete is sent before any finalizer runs: no object goes first.
    await kubectl(["delete", "-f", file, "--wait=false"]);
    await kubectl(["wait", "--for=delete", "-f", file, "--timeout=30s"]);
    for (const id of ids) expect(world.app.state.getConnection(id)).toBeUndefined();
  });
});
