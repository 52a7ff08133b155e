// The embedded local environment of `npm start` without a cluster: the app's local stand-in seeded with the
// examples' token, the provider stand-ins, a real control plane, the install manifest and the examples applied.
import { existsSync } from "node:fs";
import { delimiter, isAbsolute, join, relative, resolve } from "node:path";
import type { ProviderBaseUrls } from "../operator/providers/types.ts";
import { type AppServer, startAppServer } from "./app/server.ts";
import { type ControlPlane, REPO_ROOT, startControlPlane } from "./controlplane/controlplane.ts";
import {
  applyManifests,
  applyManifestText,
  crdNames,
  waitForCrdsEstablished,
} from "./controlplane/kubectl.ts";
import { type ProviderStandIns, startOpenAIStandIn, startProviderStandIns } from "./providers/index.ts";
import type { OpenAIBehaviour } from "./providers/openai.ts";
import type { StandIn } from "./providers/stand-in.ts";
import { exampleCredentials, localExamples } from "./sandbox-examples.ts";

/** The port the examples' Organization points at (examples/organization.yaml). */
export const SANDBOX_APP_PORT = 8765;

/** The variable naming the directory of the local kubeconfigs. */
export const STATE_DIR_ENV = "MODELKEYS_STATE_DIR";

export interface LocalEnvironmentOptions {
  /** Where the kubeconfigs are written. @default `$MODELKEYS_STATE_DIR`, else `<repo>/.modelkeys` */
  stateDir?: string;
  /** @default {@link SANDBOX_APP_PORT} (the examples' Organization URL) */
  appPort?: number;
  /** @default `<repo>/examples` */
  examplesDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting stops the start between steps: what started is stopped and the signal's reason is thrown. */
  signal?: AbortSignal;
}

export interface LocalEnvironment {
  /** The kubeconfig the operator runs with: the operator's own ServiceAccount identity, bound by RBAC. */
  operatorKubeconfigPath: string;
  /** The admin kubeconfig, for people and kubectl. */
  adminKubeconfigPath: string;
  /** The kubectl that came with the control plane (there may be none on PATH). */
  kubectlPath: string;
  /** Points the operator's model checks at the provider stand-ins. */
  providerBaseUrls: ProviderBaseUrls;
  /** Stops the stand-ins and the control plane, removing its kubeconfigs. Idempotent. */
  stop(): Promise<void>;
}

interface Log {
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
}

/** The sandbox could not start; the message says why and what to do. */
export class LocalEnvironmentError extends Error {
  override name = "LocalEnvironmentError";
}

/**
 * Starts the local environment. The app stand-in starts first, so a taken port fails in a moment.
 *
 * Guarantees: on failure or abort, everything started so far is stopped again before the error is thrown.
 * Assumptions: the examples hold the Organization's token Secret; its placeholder value becomes the sandbox
 * owner's legacy token, and the provider Secrets' placeholders become the keys the provider stand-ins accept.
 */
export async function startLocalEnvironment(
  log: Log,
  options: LocalEnvironmentOptions = {},
): Promise<LocalEnvironment> {
  const env = options.env ?? process.env;
  const stateDir = resolve(options.stateDir ?? (env[STATE_DIR_ENV] || join(REPO_ROOT, ".modelkeys")));
  const examplesDir = options.examplesDir ?? join(REPO_ROOT, "examples");
  const appPort = options.appPort ?? SANDBOX_APP_PORT;
  const credentials = await exampleCredentials(examplesDir);

  let app: AppServer | undefined;
  let providers: ProviderStandIns | undefined;
  let customServer: StandIn<OpenAIBehaviour> | undefined;
  let controlPlane: ControlPlane | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await Promise.allSettled([app?.stop(), providers?.stop(), customServer?.stop()]);
      await controlPlane?.stop();
    })();
    return stopped;
  };

  const checkpoint = () => options.signal?.throwIfAborted();
  try {
    checkpoint();
    app = await startApp(appPort, log);
    app.state.addUser({
      role: "owner",
      organization: 1,
      email: "owner@sandbox.local",
      legacyToken: credentials.appToken,
    });

    providers = await startProviderStandIns();
    const { openai, gemini, anthropic } = providers;
    openai.set({
      keys: [...credentials.openAIKeys, ...credentials.azureKeys],
      deployments: Object.fromEntries(
        Object.entries(credentials.deployments).map(([name, model]) => [name, { model }]),
      ),
    });
    gemini.set({ keys: credentials.geminiKeys });
    anthropic.set({ keys: credentials.anthropicKeys });
    // The Custom example's model server: an OpenAI-format server with JSON mode, serving its model name.
    customServer = await startOpenAIStandIn(
      { host: "127.0.0.1" },
      {
        keys: credentials.custom.keys,
        models: credentials.custom.models,
        jsonMode: "supported",
        deployments: {},
      },
    );
    // Each Vertex AI example gets a key generated now (never stored in the repository) that the stand-in trusts.
    const keyFiles = new Map<string, string>();
    for (const file of credentials.vertexKeyFiles) {
      const account = providers.vertex.createServiceAccount({ projectId: file.projectId, email: file.email });
      keyFiles.set(`${file.namespace}/${file.secret}/${file.key}`, account.json);
    }
    log.info(
      {
        event: "local.providers.started",
        openAI: openai.url,
        gemini: gemini.url,
        anthropic: anthropic.url,
        vertexAI: providers.vertex.url,
        custom: customServer.url,
      },
      "local stand-ins for OpenAI, Gemini, Anthropic, Vertex AI, Azure OpenAI, Azure AI Foundry and the Custom example's model server — not the real providers",
    );

    checkpoint();
    controlPlane = await startControlPlane({
      kubeconfigPath: join(stateDir, "kubeconfig"),
      operatorKubeconfigPath: join(stateDir, "operator.kubeconfig"),
      env,
    });
    log.info({
      event: "local.controlplane.ready",
      server: controlPlane.server,
      startupMs: controlPlane.startupMs,
      kubeconfig: controlPlane.kubeconfigPath,
    });
    checkpoint();
    const kubectl = { kubectlPath: controlPlane.kubectlPath, kubeconfig: controlPlane.kubeconfigPath };
    const install = join(REPO_ROOT, "dist", "install.yaml");
    // The embedded API server serves MutatingAdmissionPolicy at v1beta1 (Kubernetes 1.34 with it enabled).
    const finalizerPolicy = join(REPO_ROOT, "dist", "finalizer-policy-v1beta1.yaml");
    await applyManifests([install, finalizerPolicy], kubectl);
    await waitForCrdsEstablished(await crdNames([install]), kubectl);
    log.info({
      event: "local.installed",
      manifest: "dist/install.yaml",
      finalizerPolicy: "dist/finalizer-policy-v1beta1.yaml",
    });

    checkpoint();
    const examples = await localExamples(examplesDir, keyFiles);
    await applyManifestText(examples.manifests, kubectl);
    log.info({ event: "local.examples.applied", files: examples.applied });
    for (const { file, reason } of examples.skipped) {
      log.info(
        { event: "local.example.skipped", file, reason },
        `examples/${file} is not applied: ${reason}`,
      );
    }

    const customUrl = `${customServer.url}/v1`;
    const customEndpoints = new Set(credentials.custom.endpoints);
    const baseUrls: ProviderBaseUrls = {
      ...providers.baseUrls,
      // Only the examples' endpoints: a Custom connection someone adds is reached as written.
      custom: (endpoint) => (customEndpoints.has(endpoint) ? customUrl : endpoint),
    };
    return {
      operatorKubeconfigPath: controlPlane.operatorKubeconfigPath,
      adminKubeconfigPath: controlPlane.kubeconfigPath,
      kubectlPath: controlPlane.kubectlPath,
      providerBaseUrls: baseUrls,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startApp(port: number, log: Log): Promise<AppServer> {
  try {
    return await startAppServer({ host: "127.0.0.1", port, logger: appLogger(log) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new LocalEnvironmentError(
        `127.0.0.1:${port} is in use. The local stand-in for Label Studio must listen there, because the ` +
          `examples' Organization (examples/organization.yaml) points at http://127.0.0.1:${port}. ` +
          "Stop whatever holds the port (another `npm start`?) and try again.",
      );
    }
    throw error;
  }
}

/** The app server's log lines go to the operator's log, marked as the stand-in's. */
function appLogger(log: Log) {
  return {
    info: (entry: object, message?: string) => log.info({ component: "app-sandbox", ...entry }, message),
    warn: (entry: object, message?: string) => log.warn({ component: "app-sandbox", ...entry }, message),
  };
}

/**
 * The command to look with, as README shows it: the kubeconfig relative to `cwd` when it lies below it, and a
 * second line naming the control plane's kubectl when none is on PATH.
 */
export function lookCommand(
  local: Pick<LocalEnvironment, "adminKubeconfigPath" | "kubectlPath">,
  cwd = process.cwd(),
  path = process.env.PATH ?? "",
): string {
  const rel = relative(cwd, local.adminKubeconfigPath);
  const kubeconfig = rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : local.adminKubeconfigPath;
  const line = `kubectl --kubeconfig ${kubeconfig} get pconn -A`;
  const onPath = path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => existsSync(join(dir, "kubectl")));
  return onPath
    ? line
    : `${line}\n(no kubectl on PATH; this one matches the control plane: ${local.kubectlPath})`;
}
