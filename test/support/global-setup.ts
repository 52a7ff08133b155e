// Integration global setup: starts the local control plane once (or adopts TEST_KUBECONFIG), installs the
// CRDs, hands the kubeconfigs to the test files, and at the end stops it, keeping its logs when a test failed.
import { readdir, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
import { REPO_ROOT, startControlPlane } from "../../local/controlplane/controlplane.ts";
import { applyManifests, crdNames, waitForCrdsEstablished } from "../../local/controlplane/kubectl.ts";
import type {} from "./provided.ts";

const CRD_DIR = join(REPO_ROOT, "crds");
const SAVED_LOGS = join(REPO_ROOT, ".modelkeys", "logs");
// Per run, not .modelkeys/kubeconfig: two test runs (or a test run and a local sandbox) in one checkout must
// not overwrite, or on stop delete, each other's kubeconfig.
const RUN_DIR = join(REPO_ROOT, ".modelkeys", "test-runs", String(process.pid));

async function crdFiles(): Promise<string[]> {
  const names = await readdir(CRD_DIR).catch(() => [] as string[]);
  return names
    .filter((name) => name.startsWith("modelkeys.dev_") && name.endsWith(".yaml"))
    .sort()
    .map((name) => join(CRD_DIR, name));
}

// Any failure in the whole run (either project) keeps the logs: the cause may show only in the API server.
function runFailed(project: TestProject): boolean {
  const state = project.vitest.state;
  return (
    state.getCountOfFailedTests() > 0 ||
    state.getFailedFilepaths().length > 0 ||
    state.getUnhandledErrors().length > 0
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const controlPlane = await startControlPlane({
    kubeconfigPath: join(RUN_DIR, "kubeconfig"),
    operatorKubeconfigPath: join(RUN_DIR, "operator.kubeconfig"),
  });
  const stop = async (options: { saveLogsTo?: string } = {}) => {
    await controlPlane.stop(options);
    await rm(RUN_DIR, { recursive: true, force: true });
    await rmdir(dirname(RUN_DIR)).catch(() => undefined); // only when no other run is using it
  };
  if (controlPlane.external) {
    console.log(`[controlplane] using TEST_KUBECONFIG=${controlPlane.kubeconfigPath}`);
  } else {
    const seconds = (controlPlane.startupMs / 1000).toFixed(1);
    console.log(
      `[controlplane] ${controlPlane.server} ready in ${seconds} s; admin kubeconfig ${controlPlane.kubeconfigPath}`,
    );
  }

  try {
    const files = await crdFiles();
    if (files.length === 0) {
      console.log(`[controlplane] no crds/modelkeys.dev_*.yaml yet; starting without CRDs`);
    } else {
      const admin = { kubectlPath: controlPlane.kubectlPath, kubeconfig: controlPlane.kubeconfigPath };
      await applyManifests(files, admin);
      await waitForCrdsEstablished(await crdNames(files), admin);
    }
  } catch (error) {
    await stop({ saveLogsTo: join(SAVED_LOGS, `setup-${Date.now()}`) });
    throw error;
  }

  project.provide("controlPlane", {
    kubeconfigPath: controlPlane.kubeconfigPath,
    operatorKubeconfigPath: controlPlane.operatorKubeconfigPath,
    kubectlPath: controlPlane.kubectlPath,
    logDir: controlPlane.logDir,
    external: controlPlane.external,
  });

  return async () => {
    if (controlPlane.external || !runFailed(project)) {
      await stop();
      return;
    }
    const saved = join(SAVED_LOGS, new Date().toISOString().replaceAll(":", "-"));
    await rm(saved, { recursive: true, force: true });
    await stop({ saveLogsTo: saved });
    console.log(`[controlplane] a test failed: etcd and kube-apiserver logs kept in ${saved}`);
  };
}
