// For code that needs @kubernetes/client-node's KubeConfig (typed API clients) on a path loaded only on demand,
// such as Azure provisioning next to Pulumi: the same cluster and identity as an operator KubeClient. Never import
// this from the operator's always-loaded modules: client-node costs about 90 MiB of RSS once imported.
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeClient } from "./client.ts";

/**
 * A client-node KubeConfig for `kc`'s cluster and identity, loaded from the same source (the kubeconfig files,
 * merged as kubectl does, or the pod's service account, whose token client-node re-reads), else built from its
 * server and TLS settings without credentials (a loopback proxy in tests).
 */
export function clientNodeKubeConfig(kc: KubeClient): KubeConfig {
  const config = new KubeConfig();
  const origin = kc.access.origin;
  if (origin && "files" in origin) {
    const [first, ...rest] = origin.files;
    if (first) config.loadFromFile(first);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      config.mergeConfig(more, true);
    }
    return config;
  }
  if (origin && "serviceAccountDir" in origin) {
    config.loadFromCluster(
      origin.serviceAccountDir.replace(/\/var\/run\/secrets\/kubernetes\.io\/serviceaccount$/, ""),
    );
    return config;
  }
  const { tls } = kc.access;
  config.loadFromOptions({
    clusters: [
      {
        name: "cluster",
        server: kc.access.server,
        skipTLSVerify: tls.insecure ?? false,
        ...(tls.ca ? { caData: Buffer.from(tls.ca).toString("base64") } : {}),
        ...(tls.servername ? { tlsServerName: tls.servername } : {}),
      },
    ],
    users: [
      {
        name: "user",
        ...(tls.cert ? { certData: Buffer.from(tls.cert).toString("base64") } : {}),
        ...(tls.key ? { keyData: Buffer.from(tls.key).toString("base64") } : {}),
      },
    ],
    contexts: [{ name: "context", cluster: "cluster", user: "user" }],
    currentContext: "context",
  });
  return config;
}
