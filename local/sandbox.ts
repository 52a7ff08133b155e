// The embedded local environment of `npm start` without a cluster: a real control plane, the install manifest,
// the app's local stand-in seeded with the examples' token, and the examples applied.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { startAppServer } from "./app/server.ts";
import { REPO_ROOT, startControlPlane } from "./controlplane/controlplane.ts";
import { applyManifests, crdNames, waitForCrdsEstablished } from "./controlplane/kubectl.ts";

/** The port the examples' Organization points at (examples/organization.yaml). */
export const SANDBOX_APP_PORT = 8765;

export interface LocalEnvironment {
  /** The kubeconfig the operator runs with: the operator's own ServiceAccount identity, bound by RBAC. */
  operatorKubeconfigPath: string;
  adminKubeconfigPath: string;
  stop(): Promise<void>;
}

interface Log {
  info(fields: Record<string, unknown>, message?: string): void;
}

/**
 * Starts the local environment. Assumptions: examples/organization.yaml holds the token Secret; its placeholder
 * value becomes the sandbox owner's token, so the examples apply unchanged.
 */
export async function startLocalEnvironment(log: Log): Promise<LocalEnvironment> {
  const controlPlane = await startControlPlane();
  log.info({
    event: "local.controlplane.ready",
    server: controlPlane.server,
    startupMs: controlPlane.startupMs,
  });
  const kubectl = { kubectlPath: controlPlane.kubectlPath, kubeconfig: controlPlane.kubeconfigPath };
  const install = join(REPO_ROOT, "dist", "install.yaml");
  await applyManifests([install], kubectl);
  await waitForCrdsEstablished(await crdNames([install]), kubectl);

  const app = await startAppServer({ host: "127.0.0.1", port: SANDBOX_APP_PORT, logger: appLogger(log) });
  app.state.addUser({
    role: "owner",
    organization: 1,
    email: "owner@sandbox.local",
    legacyToken: await exampleToken(),
  });

  const examples = join(REPO_ROOT, "examples");
  const files = (await readdir(examples)).filter((f) => f.endsWith(".yaml")).sort();
  // The namespace first, so the rest of the examples can land in it.
  const ordered = ["namespace.yaml", ...files.filter((f) => f !== "namespace.yaml")].map((f) =>
    join(examples, f),
  );
  await applyManifests(ordered, kubectl);
  log.info({ event: "local.examples.applied", files: ordered.length });

  return {
    operatorKubeconfigPath: controlPlane.operatorKubeconfigPath,
    adminKubeconfigPath: controlPlane.kubeconfigPath,
    stop: async () => {
      await app.stop();
      await controlPlane.stop();
    },
  };
}

/** The placeholder token of the examples' Organization Secret (not a secret: it only opens the local stand-in). */
async function exampleToken(): Promise<string> {
  const text = await readFile(join(REPO_ROOT, "examples", "organization.yaml"), "utf8");
  for (const document of parseAllDocuments(text)) {
    const object = document.toJS() as { kind?: string; stringData?: Record<string, string> } | null;
    if (object?.kind === "Secret" && object.stringData?.token) return object.stringData.token;
  }
  throw new Error("examples/organization.yaml: no Secret with stringData.token");
}

function appLogger(log: Log) {
  const write = (entry: object, message?: string) =>
    log.info({ component: "app-sandbox", ...entry }, message);
  return { info: write, warn: write };
}
