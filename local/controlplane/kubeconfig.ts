// Kubeconfig files for the control plane's identities: client certificates embedded for the local
// control plane, or impersonation on top of an existing cluster's kubeconfig.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse, stringify } from "yaml";

/** One identity on one cluster, authenticated by a client certificate. */
export interface CertificateKubeconfig {
  /** Names the cluster, user and context inside the file. */
  name: string;
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** Renders a self-contained kubeconfig (certificates embedded) as YAML. */
export function certificateKubeconfig(config: CertificateKubeconfig): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: config.name,
        cluster: { server: config.server, "certificate-authority-data": base64(config.caPem) },
      },
    ],
    users: [
      {
        name: config.name,
        user: { "client-certificate-data": base64(config.certPem), "client-key-data": base64(config.keyPem) },
      },
    ],
    contexts: [{ name: config.name, context: { cluster: config.name, user: config.name } }],
    "current-context": config.name,
  });
}

interface RawKubeconfig {
  "current-context"?: string;
  clusters?: Array<{ name: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string; namespace?: string } }>;
  [key: string]: unknown;
}

const FILE_FIELDS = ["certificate-authority", "client-certificate", "client-key", "tokenFile"] as const;

// kubectl reads relative file references relative to the kubeconfig; the derived file lives elsewhere.
function absolutise(entry: Record<string, unknown> | undefined, base: string): void {
  if (!entry) return;
  for (const field of FILE_FIELDS) {
    const value = entry[field];
    if (typeof value === "string" && value !== "" && !isAbsolute(value)) entry[field] = resolve(base, value);
  }
}

/**
 * Derives a kubeconfig that acts as `asUser` through impersonation, from the current context of the
 * kubeconfig at `path`. The API server adds a ServiceAccount username's groups itself.
 *
 * Assumptions: the original identity may impersonate users (cluster-admin can).
 */
export function impersonatingKubeconfig(path: string, asUser: string): string {
  const config = parse(readFileSync(path, "utf8")) as RawKubeconfig;
  const contextName = config["current-context"];
  const context = config.contexts?.find((entry) => entry.name === contextName)?.context;
  const user = config.users?.find((entry) => entry.name === context?.user);
  if (!context || !user) throw new Error(`${path}: no current context with a user to impersonate from`);
  const base = dirname(resolve(path));
  for (const cluster of config.clusters ?? []) absolutise(cluster.cluster, base);
  for (const entry of config.users ?? []) absolutise(entry.user, base);
  const name = `${user.name}-as-${asUser.replaceAll(":", "-")}`;
  config.users = [...(config.users ?? []), { name, user: { ...user.user, as: asUser } }];
  config.contexts = [...(config.contexts ?? []), { name, context: { ...context, user: name } }];
  config["current-context"] = name;
  return stringify(config);
}
