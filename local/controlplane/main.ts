// Runs the local control plane in the foreground until Ctrl-C: `tsx local/controlplane/main.ts [--crds]`.
// Prints the kubeconfig paths; with --crds (or --install) also applies crds/ (or dist/install.yaml).
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { applyManifests, crdNames, REPO_ROOT, startControlPlane, waitForCrdsEstablished } from "./index.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    "operator-kubeconfig": { type: "string" },
    "log-dir": { type: "string" },
    crds: { type: "boolean", default: false },
    install: { type: "boolean", default: false },
  },
});

const controlPlane = await startControlPlane({
  ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
  ...(values["operator-kubeconfig"] ? { operatorKubeconfigPath: values["operator-kubeconfig"] } : {}),
  ...(values["log-dir"] ? { logDir: values["log-dir"] } : {}),
});
let stopping = false;
const stop = async (exitCode: number) => {
  if (stopping) return;
  stopping = true;
  await controlPlane.stop();
  process.exit(exitCode);
};
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

try {
  const admin = { kubectlPath: controlPlane.kubectlPath, kubeconfig: controlPlane.kubeconfigPath };
  const files = [
    ...(values.crds
      ? (await readdir(join(REPO_ROOT, "crds")))
          .filter((name) => /^modelkeys\.dev_.*\.yaml$/.test(name))
          .map((name) => join(REPO_ROOT, "crds", name))
      : []),
    ...(values.install ? [join(REPO_ROOT, "dist", "install.yaml")] : []),
  ];
  if (files.length > 0) {
    await applyManifests(files, admin);
    await waitForCrdsEstablished(await crdNames(files), admin);
  }
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}

console.log(
  JSON.stringify({
    event: "controlplane.ready",
    server: controlPlane.server || undefined,
    startupSeconds: controlPlane.startupMs / 1000,
    kubeconfig: controlPlane.kubeconfigPath,
    operatorKubeconfig: controlPlane.operatorKubeconfigPath,
    kubectl: controlPlane.kubectlPath,
    logDir: controlPlane.logDir || undefined,
  }),
);
console.log(`export KUBECONFIG=${controlPlane.kubeconfigPath}   # Ctrl-C stops the control plane`);
