// The local control plane's kubeconfigs: certificate ones are self-contained; impersonating ones act as the
// operator's ServiceAccount on top of an existing cluster's current identity.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { certificateKubeconfig, impersonatingKubeconfig } from "../../local/controlplane/kubeconfig.ts";

describe("certificateKubeconfig", () => {
  it("embeds the CA and client certificate so the file stands alone", () => {
    const kc = new KubeConfig();
    kc.loadFromString(
      certificateKubeconfig({
        name: "local",
        server: "https://127.0.0.1:6443",
        caPem: "CA",
        certPem: "CERT",
        keyPem: "KEY",
      }),
    );
    const decode = (data: string | undefined) => Buffer.from(data ?? "", "base64").toString("utf8");
    expect(kc.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
    expect(decode(kc.getCurrentCluster()?.caData)).toBe("CA");
    expect([decode(kc.getCurrentUser()?.certData), decode(kc.getCurrentUser()?.keyData)]).toEqual([
      "CERT",
      "KEY",
    ]);
  });
});

describe("impersonatingKubeconfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
  const path = join(dir, "admin.kubeconfig");
  writeFileSync(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        { name: "c", cluster: { server: "https://cluster", "certificate-authority": "certs/ca.crt" } },
      ],
      users: [{ name: "admin", user: { "client-certificate": "/abs/admin.crt", "client-key": "admin.key" } }],
      contexts: [{ name: "ctx", context: { cluster: "c", user: "admin", namespace: "ns" } }],
      "current-context": "ctx",
    }),
  );
  const derived = parse(
    impersonatingKubeconfig(path, "system:serviceaccount:modelkeys-system:modelkeys-operator"),
  );

  it("switches to a context whose user impersonates the given user with the same credentials", () => {
    const context = derived.contexts.find(
      (entry: { name: string }) => entry.name === derived["current-context"],
    );
    expect(context.context).toMatchObject({ cluster: "c", namespace: "ns" });
    const user = derived.users.find((entry: { name: string }) => entry.name === context.context.user);
    expect(user.user).toEqual({
      "client-certificate": "/abs/admin.crt",
      "client-key": join(dir, "admin.key"),
      as: "system:serviceaccount:modelkeys-system:modelkeys-operator",
    });
  });

  it("resolves relative file references against the original kubeconfig's directory", () => {
    expect(derived.clusters[0].cluster["certificate-authority"]).toBe(join(dir, "certs/ca.crt"));
  });

  it("keeps the original context for whoever else reads the file", () => {
    expect(derived.contexts.map((entry: { name: string }) => entry.name)).toContain("ctx");
  });
});
