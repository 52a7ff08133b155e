// Runs kubectl against a control plane: server-side apply of manifest files, and waiting for CRDs to
// be Established before anything creates their objects.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

/** What a kubectl invocation printed and how it exited. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runKubectl}. */
export interface KubectlOptions {
  kubeconfig: string;
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string;
  /** Kills kubectl after this long. @default 120000 */
  timeoutMs?: number;
}

/** Runs `kubectl --kubeconfig <kubeconfig> ...args`; never throws for a non-zero exit. */
export function runKubectl(
  kubectlPath: string,
  args: string[],
  options: KubectlOptions,
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath, ["--kubeconfig", options.kubeconfig, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** Options of {@link applyManifests}. */
export interface ApplyOptions {
  kubectlPath: string;
  kubeconfig: string;
  /** The field manager the applied fields belong to. @default "modelkeys-harness" */
  fieldManager?: string;
  /** Attempts before giving up on an error that is not {@link isTransientApplyError transient}. @default 3 */
  attempts?: number;
  /** How long transient errors are retried before giving up. @default 60000 */
  transientDeadlineMs?: number;
}

/**
 * `kubectl apply --server-side --force-conflicts` of each file. Transient refusals are retried until a deadline
 * (see {@link isTransientApplyError}); any other failure a few times, because two test files applying the same
 * object at once can race on its creation. Throws with kubectl's stderr on failure.
 */
export async function applyManifests(files: string[], options: ApplyOptions): Promise<string> {
  return apply(
    files.flatMap((file) => ["-f", file]),
    undefined,
    files.join(", "),
    options,
  );
}

/** {@link applyManifests} of a YAML stream given as text (through stdin: nothing is written to disk). */
export async function applyManifestText(text: string, options: ApplyOptions): Promise<string> {
  return apply(["-f", "-"], text, "manifests from stdin", options);
}

async function apply(
  sources: string[],
  input: string | undefined,
  what: string,
  options: ApplyOptions,
): Promise<string> {
  const args = [
    "apply",
    "--server-side",
    "--force-conflicts",
    `--field-manager=${options.fieldManager ?? "modelkeys-harness"}`,
    ...sources,
  ];
  const attempts = options.attempts ?? 3;
  const deadline = Date.now() + (options.transientDeadlineMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    const result = await runKubectl(options.kubectlPath, args, { kubeconfig: options.kubeconfig, input });
    if (result.code === 0) return result.stdout;
    const retry = isTransientApplyError(result.stderr) ? Date.now() < deadline : attempt < attempts;
    if (!retry) throw new Error(`kubectl apply of ${what} failed: ${result.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000)));
  }
}

/**
 * Whether kubectl's stderr says the API server refused for now rather than for good. The one that matters: right
 * after a CRD is created, a MutatingAdmissionPolicy that matches its objects (the install's finalizer policy) answers
 * creates with 503 "Resource kind ... not found. There can be a delay ..." until the API server's admission type
 * converter has read the CRD's OpenAPI schema, which it polls every 10 s.
 */
export function isTransientApplyError(stderr: string): boolean {
  return /ServiceUnavailable|TooManyRequests|there can be a delay|the object has been modified|connection refused/i.test(
    stderr,
  );
}

/** The names of the CustomResourceDefinitions in the given manifest files. */
export async function crdNames(files: string[]): Promise<string[]> {
  const names: string[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(await readFile(file, "utf8"))) {
      const object = document.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (object?.kind === "CustomResourceDefinition" && object.metadata?.name)
        names.push(object.metadata.name);
    }
  }
  return names;
}

/** Waits (kubectl's own deadline) until every named CRD reports the Established condition. */
export async function waitForCrdsEstablished(
  names: string[],
  options: { kubectlPath: string; kubeconfig: string; timeoutSeconds?: number },
): Promise<void> {
  if (names.length === 0) return;
  const timeout = options.timeoutSeconds ?? 60;
  const result = await runKubectl(
    options.kubectlPath,
    ["wait", "--for=condition=Established", `--timeout=${timeout}s`, ...names.map((name) => `crd/${name}`)],
    { kubeconfig: options.kubeconfig, timeoutMs: (timeout + 10) * 1000 },
  );
  if (result.code !== 0) throw new Error(`CRDs not Established within ${timeout}s: ${result.stderr.trim()}`);
}
