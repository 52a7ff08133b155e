// Finds the etcd, kube-apiserver and kubectl binaries: prebuilt ones from KUBEBUILDER_ASSETS (as envtest
// reads them), or the ones build.sh builds from the pinned Go modules and caches.
import { spawn } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Absolute paths of the three binaries the local control plane runs. */
export interface ControlPlaneBinaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubectl: string;
}

/** The versions pinned by the wrapper modules' go.mod files. */
export interface PinnedVersions {
  kubernetes: string;
  etcd: string;
}

const BUILD_SCRIPT = join(import.meta.dirname, "build.sh");

function requireVersion(goMod: string, modulePath: string): string {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
  if (!match?.[1]) throw new Error(`no require line for ${modulePath} in the control plane's go.mod`);
  return match[1];
}

/** Reads the pinned Kubernetes and etcd versions from local/controlplane/{kube,etcd}/go.mod. */
export function pinnedVersions(): PinnedVersions {
  const read = (module: string) => readFileSync(join(import.meta.dirname, module, "go.mod"), "utf8");
  return {
    kubernetes: requireVersion(read("kube"), "k8s.io/kubernetes"),
    etcd: requireVersion(read("etcd"), "go.etcd.io/etcd/server/v3"),
  };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function inDir(dir: string): ControlPlaneBinaries {
  return {
    dir,
    etcd: join(dir, "etcd"),
    kubeApiserver: join(dir, "kube-apiserver"),
    kubectl: join(dir, "kubectl"),
  };
}

function assertComplete(binaries: ControlPlaneBinaries, origin: string): ControlPlaneBinaries {
  const missing = [binaries.etcd, binaries.kubeApiserver, binaries.kubectl].filter(
    (path) => !executable(path),
  );
  if (missing.length > 0) throw new Error(`${origin}: missing or not executable: ${missing.join(", ")}`);
  return binaries;
}

/**
 * Runs build.sh and returns the directory it prints. A warm cache answers at once; a cold build takes
 * minutes and streams its progress to stderr. build.sh serialises concurrent callers with a lock.
 */
export async function buildBinaries(): Promise<ControlPlaneBinaries> {
  const child = spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) throw new Error(`local/controlplane/build.sh exited with ${code}`);
  const dir = stdout.trim().split("\n").at(-1);
  if (!dir) throw new Error("local/controlplane/build.sh printed no directory");
  return assertComplete(inDir(dir), "local/controlplane/build.sh");
}

/** KUBEBUILDER_ASSETS when set (must hold all three binaries), otherwise the cached build. */
export async function resolveBinaries(env: NodeJS.ProcessEnv = process.env): Promise<ControlPlaneBinaries> {
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets) return assertComplete(inDir(assets), `KUBEBUILDER_ASSETS=${assets}`);
  return buildBinaries();
}

/**
 * kubectl alone, for an existing cluster: KUBEBUILDER_ASSETS, then a kubectl on PATH, then the cached
 * build (which builds all three binaries when the cache is cold).
 */
export async function resolveKubectl(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = [
    ...(env.KUBEBUILDER_ASSETS ? [join(env.KUBEBUILDER_ASSETS, "kubectl")] : []),
    ...(env.PATH ?? "")
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, "kubectl")),
  ];
  const found = candidates.find(executable);
  return found ?? (await buildBinaries()).kubectl;
}
